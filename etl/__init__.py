"""Warehouse side of the churn job: settings, database access, loading, SQL models, quality gates."""
