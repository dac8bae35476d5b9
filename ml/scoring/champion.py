"""The champion as the scorer needs it: model, decision threshold and the training baseline.

Which model is champion and the verified artifact come from the registry
(`ml.registry.load_champion`); `Champion.from_bundle` adds what scoring derives from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ml import features


@dataclass(frozen=True)
class Champion:
    model_version: str
    model: Any  # fitted calibrated pipeline: predict_proba(features.to_model_input(frame))
    threshold: float | None  # registered decision threshold (None: rule file fallback)
    baseline: Mapping[str, Any]  # model input → training median (numeric) / mode (categorical)
    row: Mapping[str, Any]  # the ml.model_registry row

    @classmethod
    def from_bundle(cls, bundle: Mapping[str, Any], row: Mapping[str, Any]) -> Champion:
        """From `registry.load_champion(engine)`: the verified bundle and its registry row."""
        return cls(
            model_version=row["model_version"],
            model=bundle["model"],
            threshold=row.get("threshold", bundle.get("threshold")),
            baseline=baseline_from_bundle(bundle),
            row=row,
        )


def baseline_from_bundle(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """Training medians/modes, in model-input space (booleans 0/1, categories as text)."""
    medians = bundle.get("training_medians") or {}
    modes = bundle.get("training_modes") or {}
    missing = [c for c in features.NUMERIC_INPUT if c not in medians] + [
        c for c in features.CATEGORICAL if c not in modes
    ]
    if missing:
        raise KeyError(f"model bundle lacks training medians/modes of {missing}: retrain the model")
    return {
        **{c: float(medians[c]) for c in features.NUMERIC_INPUT},
        **{c: str(modes[c]) for c in features.CATEGORICAL},
    }
