"""Airflow Assets shared by the DAGs (names are what the UI shows; URIs follow the postgres form)."""

from __future__ import annotations

from airflow.sdk import Asset

CUSTOMER_FEATURES = Asset(
    name="features.customer_features",
    uri="postgres://warehouse:5432/warehouse/features/customer_features",
)
CHURN_SCORES = Asset(
    name="scoring.churn_scores",
    uri="postgres://warehouse:5432/warehouse/scoring/churn_scores",
)
CHAMPION_MODEL = Asset(
    name="ml.model_registry.champion",
    uri="postgres://warehouse:5432/warehouse/ml/model_registry",
)
