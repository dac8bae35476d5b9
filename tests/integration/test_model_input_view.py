"""features.model_input (read by training and scoring) carries exactly the model's inputs."""
from __future__ import annotations

from ml import features
from tests.helpers import rows


def test_model_input_view_columns_are_the_model_features(engine):
    columns = rows(
        engine,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'features' AND table_name = 'model_input' ORDER BY ordinal_position",
    )
    names = [c["column_name"] for c in columns]
    assert names[:3] == ["snapshot_date", features.ID, features.TARGET]
    assert sorted(names[3:]) == sorted(features.FEATURES)
