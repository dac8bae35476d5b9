"""Churn model: training set, candidate search, honest evaluation, registry, model card.

Light on import (no pandas/sklearn here) so DAG files can reference the package at parse time.
"""
