"""Model card: one self-contained HTML page per model version (plots as embedded PNG, Agg backend).

Written to `<reports dir>/model_cards/<model_version>.html`; the path goes into the registry row
and the task log. Everything on it comes from the training run: the training set, the
out-of-fold calibrated probabilities of the evaluation folds, the candidates, the gate verdict.
This module gathers it; the page itself is the Jinja2 template templates/model_card.html.j2.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import jinja2

from ml import features
from ml.model_card_plots import (
    TITLES,
    plot_calibration,
    plot_candidates,
    plot_class_balance,
    plot_confusion,
    plot_correlation,
    plot_feature_distributions,
    plot_importance,
    plot_roc_pr,
)
from ml.model_card_use import intended_use_section

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "model_card.html.j2"


def card_path_for(model_version: str) -> Path:
    from etl.warehouse import settings

    folder = settings.reports_dir() / "model_cards"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{model_version}.html"


def _fmt(stat: Mapping[str, float]) -> str:
    return f"{stat['mean']:.4f} ± {stat['std']:.4f}"


def parameter_value(value: Any) -> str:
    """A parameter value as a reader writes it: text as is, numbers and the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def parameter_rows(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The chosen model's parameters, one row each (`model__C` is the model's C: sklearn's
    pipeline-step prefix), instead of a JSON blob."""
    return [(name, parameter_value(value)) for name, value in sorted(params.items())]


def _params_text(params: Mapping[str, Any]) -> str:
    return "; ".join(f"{name} = {parameter_value(value)}" for name, value in sorted(params.items()))


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    """The page, beside this module; autoescape on, so every value is shown as text."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return environment.get_template(TEMPLATE)


def render(
    *,
    model_version: str,
    frame: pd.DataFrame,
    X: pd.DataFrame,
    y: np.ndarray,
    best: Mapping[str, Any],
    details: Sequence[Mapping[str, Any]],
    decision: Mapping[str, Any],
    metrics: Mapping[str, Any],
    artifact_sha256: str,
    library_versions: Mapping[str, str],
    snapshot: dt.date,
) -> str:
    """The card's HTML text."""
    return _template().render(
        model_version=model_version,
        overview=_overview(frame, y, best, metrics, artifact_sha256, library_versions, snapshot),
        intended_use=intended_use_section(frame, y, snapshot, metrics),
        parameters=parameter_rows(best["params"]),
        gate=_gate(decision),
        metric_rows=[
            (name, _fmt(metrics[name]), f"{metrics[name]['min']:.4f} – {metrics[name]['max']:.4f}")
            for name in ("roc_auc", "brier", "log_loss", "f1", "recall", "precision")
        ],
        candidate_rows=_candidate_rows(details),
        titles=TITLES,
        plots=_plots(X, y, best["folds"], metrics, details, decision),
    )


def _overview(
    frame, y, best, metrics, artifact_sha256: str, library_versions: Mapping[str, str], snapshot: dt.date
) -> list[tuple[str, str]]:
    """What was trained on what, how it was evaluated, and which exact artifact it is."""
    cv = metrics["cv"]
    return [
        ("training snapshot", snapshot.isoformat()),
        ("training rows", f"{len(frame)} ({int(y.sum())} «Снизилась», {y.mean():.1%})"),
        ("algorithm", f"{best['family']} ({best['estimator']}) + {metrics['calibration']}"),
        ("evaluation", f"{cv['scheme']}: {cv['splits']} folds × {cv['repeats']} repeats = {metrics['folds']} folds"),
        (
            "search",
            f"budget {metrics['search']['budget']}: {metrics['search']['n_iter']} draws × "
            f"{metrics['search']['folds']} search folds (other partitions than the evaluation)",
        ),
        ("threshold", f"{metrics['threshold']:.4f} — {metrics['threshold_rule']}"),
        ("features", ", ".join(features.FEATURES)),
        ("artifact sha256", artifact_sha256),
        ("library versions", ", ".join(f"{k} {v}" for k, v in library_versions.items())),
        ("created", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
    ]


def _gate(decision: Mapping[str, Any]) -> dict[str, Any]:
    """The promotion gate's verdict, and the champion's realized performance (ml/outcomes):
    how its scores came true."""
    return {
        "verdict": "promote" if decision["promote"] else "reject",
        "rule": decision["rule"],
        "reason": decision["reason"],
        "source": decision.get("champion_source"),
        "champion_version": decision.get("champion_version"),
        "realized": _realized_rows(decision.get("champion_realized") or []),
    }


def _realized_rows(realized: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    def number(value: Any) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    return [
        (
            r["score_date"],
            r["settled_by"],
            f"{r['customers']} of the {r['evaluated_on']}",
            f"{number(r['roc_auc'])} [{number(r['roc_auc_low'])}, {number(r['roc_auc_high'])}]",
            number(r["brier_score"]),
            f"{number(r['cv_roc_auc_mean'])} ± {number(r['cv_roc_auc_std'])}",
            "below CV − spread" if r["below_cv"] else "ok",
        )
        for r in realized
    ]


def _candidate_rows(details: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            d["family"],
            d["estimator"],
            _fmt(d["metrics"]["roc_auc"]),
            f"{d['metrics']['brier']['mean']:.4f}",
            d["search"]["n_iter"],
            f"{d['search_seconds'] + d['eval_seconds']:.1f}",
            _params_text(d["params"]),
        )
        for d in details
    ]


def _plots(X, y, folds, metrics: Mapping[str, Any], details, decision) -> dict[str, str]:
    """Every plot of the card as base64 PNG text, by its key in TITLES (the image's alt text)."""
    threshold = metrics["threshold"]
    return {
        "candidates": plot_candidates(details, decision),
        "class balance": plot_class_balance(y),
        "feature distributions": plot_feature_distributions(X, y),
        "correlation matrix": plot_correlation(X, y),
        "roc and precision-recall": plot_roc_pr(y, folds, threshold),
        "calibration curve": plot_calibration(y, folds),
        "confusion matrix": plot_confusion(y, folds, threshold),
        "permutation importance": plot_importance(metrics["permutation_importance"]),
    }


def write_card(**context: Any) -> Path:
    """Render the card and write it under reports_dir()/model_cards/; return its path."""
    path = card_path_for(context["model_version"])
    path.write_text(render(**context), encoding="utf-8")
    return path
