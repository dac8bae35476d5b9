"""The model's inputs are declared once, in ml/features.py; the feature table, its staged twin,
the build step and the model_input view agree with that declaration."""

from __future__ import annotations

from etl.warehouse import settings
from ml import features
from tests.helpers import rows

# Columns of features.customer_features that are not model inputs (why: ml/features.py docstring).
NOT_INPUTS = ("snapshot_date", features.ID, features.TARGET, "revenue_outlier_fixed", "is_active_3m")


def columns(engine, table: str) -> list[str]:
    return [
        c["column_name"]
        for c in rows(
            engine,
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'features' AND table_name = :t ORDER BY ordinal_position",
            t=table,
        )
    ]


def test_model_input_view_columns_are_the_model_features(engine):
    names = columns(engine, "model_input")
    assert names[:3] == ["snapshot_date", features.ID, features.TARGET]
    assert sorted(names[3:]) == sorted(features.FEATURES)


def test_feature_table_holds_the_features_and_nothing_undeclared(engine):
    names = columns(engine, "customer_features")
    assert sorted(names) == sorted((*NOT_INPUTS, *features.FEATURES))
    assert columns(engine, "customer_features_staged") == names  # staged rows are published as they are


def test_the_build_step_names_every_column_of_the_staged_table_in_order(engine):
    build = (settings.SQL_DIR / "features" / "010_build_customer_features_staged.sql").read_text(encoding="utf-8")
    listed = build.split("INSERT INTO features.customer_features_staged (", 1)[1].split(")", 1)[0]
    assert [name.strip() for name in listed.split(",")] == columns(engine, "customer_features_staged")
