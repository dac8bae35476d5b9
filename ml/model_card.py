"""Model card: one self-contained HTML page per model version (plots as embedded PNG, Agg backend).

Written to `<reports dir>/model_cards/<model_version>.html`; the path goes into the registry row
and the task log. Everything on it comes from the training run: the training set, the
out-of-fold calibrated probabilities of the evaluation folds, the candidates, the gate verdict.
"""
from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ml import features
from ml.model_card_plots import (
    TITLES, plot_calibration, plot_candidates, plot_class_balance, plot_confusion, plot_correlation,
    plot_feature_distributions, plot_importance, plot_roc_pr,
)
from ml.model_card_use import intended_use_section

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd



def card_path_for(model_version: str) -> Path:
    from etl.warehouse import settings

    folder = settings.reports_dir() / "model_cards"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{model_version}.html"



def _table(rows: Sequence[Sequence[Any]], header: Sequence[str], css: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    attribute = f" class='{css}'" if css else ""
    return f"<table{attribute}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(stat: Mapping[str, float]) -> str:
    return f"{stat['mean']:.4f} ± {stat['std']:.4f}"


def parameter_value(value: Any) -> str:
    """A parameter value as a reader writes it: text as is, numbers and the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def parameters_table(params: Mapping[str, Any]) -> str:
    """The chosen model's parameters, one row each (`model__C` is the model's C: sklearn's
    pipeline-step prefix), instead of a JSON blob."""
    rows = [(name, parameter_value(value)) for name, value in sorted(params.items())]
    return _table(rows, ("parameter", "value"), css="parameters") if rows else "<p>No parameters (defaults).</p>"


def _params_text(params: Mapping[str, Any]) -> str:
    return "; ".join(f"{name} = {parameter_value(value)}" for name, value in sorted(params.items()))


STYLE = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","Liberation Sans",Arial,"DejaVu Sans",sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f4f4f4}img{max-width:100%;display:block;margin:.5em 0}.verdict{font-weight:bold}
code{font-size:.85em;word-break:break-all}
figure{margin:1.5em 0}figcaption{font-weight:bold;font-size:1.05em;margin-bottom:.3em}
h3{font-size:1em;margin:1em 0 .3em}
"""


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
    sections = [
        f"<h1>Churn model card — {html.escape(model_version)}</h1>",
        "<p>Predicts the probability that a customer's purchasing activity drops («Снизилась» = 1) "
        "among customers active in each of the last three months.</p>",
        _overview(frame, y, best, metrics, artifact_sha256, library_versions, snapshot),
        *intended_use_section(frame, y, snapshot, metrics),
        "<h2>Parameters of the chosen model</h2>",
        parameters_table(best["params"]),
        *_gate_section(decision),
        *_metrics_section(metrics, details, decision),
        *_plots_section(X, y, best["folds"], metrics),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Model card {html.escape(model_version)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>"
    )


def _overview(frame, y, best, metrics, artifact_sha256: str, library_versions: Mapping[str, str], snapshot: dt.date) -> str:
    """What was trained on what, how it was evaluated, and which exact artifact it is."""
    cv = metrics["cv"]
    return _table([
        ("training snapshot", snapshot.isoformat()),
        ("training rows", f"{len(frame)} ({int(y.sum())} «Снизилась», {y.mean():.1%})"),
        ("algorithm", f"{best['family']} ({best['estimator']}) + {metrics['calibration']}"),
        ("evaluation", f"{cv['scheme']}: {cv['splits']} folds × {cv['repeats']} repeats = {metrics['folds']} folds"),
        ("search", f"budget {metrics['search']['budget']}: {metrics['search']['n_iter']} draws × "
                   f"{metrics['search']['folds']} search folds (other partitions than the evaluation)"),
        ("threshold", f"{metrics['threshold']:.4f} — {metrics['threshold_rule']}"),
        ("features", ", ".join(features.FEATURES)),
        ("artifact sha256", artifact_sha256),
        ("library versions", ", ".join(f"{k} {v}" for k, v in library_versions.items())),
        ("created", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
    ], ("", ""))


def _gate_section(decision: Mapping[str, Any]) -> list[str]:
    verdict = "promote" if decision["promote"] else "reject"
    source = decision.get("champion_source")
    return [
        "<h2>Promotion gate</h2>",
        f"<p class='verdict'>Verdict: {verdict}.</p><p>Rule: {html.escape(decision['rule'])}.<br>"
        f"{html.escape(decision['reason'])}"
        + (f"<br>Champion evaluated from: {html.escape(str(source))}" if source else "")
        + "</p>",
        *_champion_realized_section(decision),
    ]


def _champion_realized_section(decision: Mapping[str, Any]) -> list[str]:
    """The champion's realized performance (ml/outcomes): how its scores came true."""
    if not decision.get("champion_version"):
        return []
    realized = decision.get("champion_realized") or []
    title = f"<h3>Realized performance of the champion {html.escape(str(decision['champion_version']))}</h3>"
    if not realized:
        return [title, "<p>No outcome has arrived yet: a score is settled by the labels of the first snapshot "
                       "on or after its date + 3 months (mart.realized_performance).</p>"]

    def number(value: Any) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    rows = [(r["score_date"], r["settled_by"], f"{r['customers']} of the {r['evaluated_on']}",
             f"{number(r['roc_auc'])} [{number(r['roc_auc_low'])}, {number(r['roc_auc_high'])}]",
             number(r["brier_score"]), f"{number(r['cv_roc_auc_mean'])} ± {number(r['cv_roc_auc_std'])}",
             "below CV − spread" if r["below_cv"] else "ok") for r in realized]
    return [title, _table(rows, ("score date", "settled by", "customers", "realized ROC-AUC [CI]", "Brier",
                                 "CV ROC-AUC ± spread", "status"))]


def _metrics_section(metrics: Mapping[str, Any], details: Sequence[Mapping[str, Any]], decision: Mapping[str, Any]) -> list[str]:
    metric_rows = [(name, _fmt(metrics[name]), f"{metrics[name]['min']:.4f} – {metrics[name]['max']:.4f}")
                   for name in ("roc_auc", "brier", "log_loss", "f1", "recall", "precision")]
    candidate_rows = [
        (d["family"], d["estimator"], _fmt(d["metrics"]["roc_auc"]), f"{d['metrics']['brier']['mean']:.4f}",
         d["search"]["n_iter"], f"{d['search_seconds'] + d['eval_seconds']:.1f}",
         _params_text(d["params"]))
        for d in details
    ]
    return [
        "<h2>Cross-validated metrics (calibrated probabilities, per fold)</h2>",
        _table(metric_rows, ("metric", "mean ± std", "min – max")),
        "<h2>Candidates compared</h2>",
        _table(candidate_rows, ("family", "estimator", "ROC-AUC mean ± std", "Brier", "draws", "seconds", "best parameters")),
        _image("candidates", plot_candidates(details, decision)),
    ]


def _plots_section(X, y, folds, metrics: Mapping[str, Any]) -> list[str]:
    threshold = metrics["threshold"]
    return [
        "<h2>Training data</h2>",
        _image("class balance", plot_class_balance(y)),
        _image("feature distributions", plot_feature_distributions(X, y)),
        _image("correlation matrix", plot_correlation(X, y)),
        "<h2>Discrimination</h2>",
        _image("roc and precision-recall", plot_roc_pr(y, folds, threshold)),
        "<h2>Calibration and threshold</h2>",
        _image("calibration curve", plot_calibration(y, folds)),
        _image("confusion matrix", plot_confusion(y, folds, threshold)),
        "<h2>What drives the model</h2>",
        _image("permutation importance", plot_importance(metrics["permutation_importance"])),
    ]


def _image(plot: str, png_base64: str) -> str:
    """A plot with its title as a caption above it, readable as text (and to a screen reader)."""
    title = html.escape(TITLES[plot])
    return (f"<figure><figcaption>{title}</figcaption>"
            f"<img title='{title}' alt='{html.escape(plot, quote=True)}' src='data:image/png;base64,{png_base64}'></figure>")


def write_card(**context: Any) -> Path:
    """Render the card and write it under reports_dir()/model_cards/; return its path."""
    path = card_path_for(context["model_version"])
    path.write_text(render(**context), encoding="utf-8")
    return path
