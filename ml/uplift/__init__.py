"""Offers by value: uplift models, the targeting policy and its off-policy estimates (ml/uplift/README.md)."""
