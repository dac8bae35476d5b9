"""Model card: one self-contained HTML page per model version (plots as embedded PNG, Agg backend).

Written to `<reports dir>/model_cards/<model_version>.html`; the path goes into the registry row
and the task log. Everything on it comes from the training run: the training set, the
out-of-fold calibrated probabilities of the evaluation folds, the candidates, the gate verdict.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ml import features

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CLASS_NAMES = {0: "Прежний уровень (0)", 1: "Снизилась (1)"}
COLORS = {0: "#4C78A8", 1: "#E45756"}


def card_path_for(model_version: str) -> Path:
    from etl.warehouse import settings

    folder = settings.reports_dir() / "model_cards"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{model_version}.html"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _pooled(y: np.ndarray, folds: Mapping[str, Any], repeat: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold labels and probabilities; one repeat covers every customer exactly once."""
    import numpy as np

    n = folds["n_splits"]
    pairs = list(zip(folds["test_indices"], folds["probabilities"]))
    if repeat is not None:
        pairs = pairs[repeat * n:(repeat + 1) * n]
    idx = np.concatenate([np.asarray(i) for i, _ in pairs])
    proba = np.concatenate([np.asarray(p) for _, p in pairs])
    return y[idx], proba


def plot_class_balance(y: np.ndarray) -> str:
    import numpy as np

    plt = _pyplot()
    counts = np.bincount(y, minlength=2)
    fig, ax = plt.subplots(figsize=(4.5, 3))
    bars = ax.bar([CLASS_NAMES[0], CLASS_NAMES[1]], counts, color=[COLORS[0], COLORS[1]])
    for bar, count in zip(bars, counts):
        ax.annotate(f"{count} ({count / counts.sum():.1%})", (bar.get_x() + bar.get_width() / 2, count),
                    ha="center", va="bottom")
    ax.set_ylabel("customers")
    ax.set_title("Class balance (training set)")
    return _png(fig)


def plot_feature_distributions(X: pd.DataFrame, y: np.ndarray) -> str:
    import numpy as np

    plt = _pyplot()
    columns = list(features.FEATURES)
    ncols = 4
    nrows = int(np.ceil(len(columns) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(16, 3 * nrows))
    for ax, column in zip(axes.flat, columns):
        values = X[column]
        if column in features.CATEGORICAL or column in features.BOOLEAN:
            levels = sorted(values.astype(str).unique())
            width = 0.4
            for k, label in enumerate((0, 1)):
                part = values[y == label].astype(str)
                shares = [float((part == level).mean()) for level in levels]
                ax.bar(np.arange(len(levels)) + (k - 0.5) * width, shares, width, color=COLORS[label], label=CLASS_NAMES[label])
            ax.set_xticks(np.arange(len(levels)))
            ax.set_xticklabels([level[:14] for level in levels], rotation=30, ha="right", fontsize=7)
            ax.set_ylabel("share of class")
        else:
            bins = np.histogram_bin_edges(values.astype(float), bins=20)
            for label in (0, 1):
                ax.hist(values[y == label].astype(float), bins=bins, density=True, alpha=0.55,
                        color=COLORS[label], label=CLASS_NAMES[label])
        ax.set_title(column, fontsize=9)
    for ax in list(axes.flat)[len(columns):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Feature distributions by class", y=1.0)
    fig.tight_layout()
    return _png(fig)


def plot_correlation(X: pd.DataFrame, y: np.ndarray) -> str:
    plt = _pyplot()
    numeric = X[list(features.NUMERIC_INPUT)].astype(float).copy()
    numeric[features.TARGET] = y
    corr = numeric.corr(method="spearman")
    fig, ax = plt.subplots(figsize=(9, 8))
    image = ax.imshow(corr.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(corr)))
    ax.set_yticks(range(len(corr)))
    ax.set_xticklabels(corr.columns, rotation=90, fontsize=7)
    ax.set_yticklabels(corr.columns, fontsize=7)
    for i in range(len(corr)):
        for j in range(len(corr)):
            ax.text(j, i, f"{corr.iat[i, j]:.1f}", ha="center", va="center", fontsize=5.5)
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title("Spearman correlation (numeric features and the label)")
    return _png(fig)


def plot_roc_pr(y: np.ndarray, folds: Mapping[str, Any], threshold: float) -> str:
    import numpy as np
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    plt = _pyplot()
    repeats = len(folds["test_indices"]) // folds["n_splits"]
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(11, 4.5))
    for r in range(repeats):
        yt, p = _pooled(y, folds, r)
        fpr, tpr, _ = roc_curve(yt, p)
        roc_ax.plot(fpr, tpr, color=COLORS[1], alpha=0.35, lw=1, label=f"repeat {r + 1}: AUC {auc(fpr, tpr):.3f}")
        precision, recall, _ = precision_recall_curve(yt, p)
        pr_ax.plot(recall, precision, color=COLORS[0], alpha=0.35, lw=1)
    yt, p = _pooled(y, folds, 0)
    predicted = p >= threshold
    point_recall = predicted[yt == 1].mean()
    point_precision = yt[predicted].mean() if predicted.any() else 0.0
    pr_ax.scatter([point_recall], [point_precision], color="black", zorder=3,
                  label=f"threshold {threshold:.3f}: recall {point_recall:.2f}, precision {point_precision:.2f}")
    roc_ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (out-of-fold, each repeat)")
    roc_ax.legend(fontsize=7, loc="lower right")
    pr_ax.axhline(np.mean(y), ls="--", color="grey", lw=1)
    pr_ax.set(xlabel="recall («Снизилась»)", ylabel="precision", title="Precision-recall (out-of-fold)")
    pr_ax.legend(fontsize=7, loc="lower left")
    return _png(fig)


def plot_calibration(y: np.ndarray, folds: Mapping[str, Any]) -> str:
    from sklearn.calibration import calibration_curve

    plt = _pyplot()
    yt, p = _pooled(y, folds)
    fraction, mean_predicted = calibration_curve(yt, p, n_bins=10, strategy="quantile")
    fig, (ax, hist_ax) = plt.subplots(2, 1, figsize=(5.5, 6), gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
    ax.plot(mean_predicted, fraction, marker="o", color=COLORS[1], label="model (deciles)")
    ax.set(ylabel="observed share «Снизилась»", title="Calibration (out-of-fold, all repeats)")
    ax.legend(fontsize=8)
    hist_ax.hist(p, bins=20, range=(0, 1), color=COLORS[0])
    hist_ax.set(xlabel="predicted probability", ylabel="count")
    return _png(fig)


def plot_confusion(y: np.ndarray, folds: Mapping[str, Any], threshold: float) -> str:
    from sklearn.metrics import confusion_matrix

    plt = _pyplot()
    yt, p = _pooled(y, folds, 0)
    matrix = confusion_matrix(yt, (p >= threshold).astype(int), labels=[0, 1])
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(matrix, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=14,
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    ax.set_xticks([0, 1])
    ax.set_yticks([0, 1])
    ax.set_xticklabels(["predicted 0", "predicted 1"])
    ax.set_yticklabels([CLASS_NAMES[0], CLASS_NAMES[1]])
    ax.set_title(f"Confusion matrix at {threshold:.3f}\n(out-of-fold, first repeat: each customer once)", fontsize=9)
    return _png(fig)


def plot_importance(importance: Mapping[str, Mapping[str, float]]) -> str:
    plt = _pyplot()
    ordered = sorted(importance.items(), key=lambda kv: kv[1]["mean"])
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(ordered) + 1))
    ax.barh([k for k, _ in ordered], [v["mean"] for _, v in ordered], xerr=[v["std"] for _, v in ordered],
            color=COLORS[0])
    ax.axvline(0, color="grey", lw=1)
    ax.set(xlabel="drop in held-out ROC-AUC when the column is shuffled",
           title="Permutation importance (eval folds of the first repeat)")
    ax.tick_params(axis="y", labelsize=8)
    return _png(fig)


def plot_candidates(details: Sequence[Mapping[str, Any]], decision: Mapping[str, Any]) -> str:
    plt = _pyplot()
    data = [d["metrics"]["fold_roc_auc"] for d in details]
    labels = [d["family"] for d in details]
    if decision.get("champion_fold_roc_auc"):
        data.append(decision["champion_fold_roc_auc"])
        labels.append("champion\n(re-fitted)")
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.boxplot(data, tick_labels=labels)
    ax.set(ylabel="ROC-AUC per evaluation fold", title="Candidates on the same evaluation folds")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(stat: Mapping[str, float]) -> str:
    return f"{stat['mean']:.4f} ± {stat['std']:.4f}"


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f4f4f4}img{max-width:100%;display:block;margin:.5em 0}.verdict{font-weight:bold}
code{font-size:.85em;word-break:break-all}
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
    folds = best["folds"]
    threshold = metrics["threshold"]
    cv = metrics["cv"]
    metric_rows = [(name, _fmt(metrics[name]), f"{metrics[name]['min']:.4f} – {metrics[name]['max']:.4f}")
                   for name in ("roc_auc", "brier", "log_loss", "f1", "recall", "precision")]
    candidate_rows = [
        (d["family"], d["estimator"], _fmt(d["metrics"]["roc_auc"]), f"{d['metrics']['brier']['mean']:.4f}",
         d["search"]["n_iter"], f"{d['search_seconds'] + d['eval_seconds']:.1f}",
         json.dumps(d["params"], ensure_ascii=False))
        for d in details
    ]
    verdict = "promote" if decision["promote"] else "reject"
    sections = [
        f"<h1>Churn model card — {html.escape(model_version)}</h1>",
        "<p>Predicts the probability that a customer's purchasing activity drops («Снизилась» = 1) "
        "among customers active in each of the last three months.</p>",
        _table([
            ("training snapshot", snapshot.isoformat()),
            ("training rows", f"{len(frame)} ({int(y.sum())} «Снизилась», {y.mean():.1%})"),
            ("algorithm", f"{best['family']} ({best['estimator']}) + {metrics['calibration']}"),
            ("parameters", json.dumps(best["params"], ensure_ascii=False)),
            ("evaluation", f"{cv['scheme']}: {cv['splits']} folds × {cv['repeats']} repeats = {metrics['folds']} folds"),
            ("search", f"budget {metrics['search']['budget']}: {metrics['search']['n_iter']} draws × "
                       f"{metrics['search']['folds']} search folds (other partitions than the evaluation)"),
            ("threshold", f"{threshold:.4f} — {metrics['threshold_rule']}"),
            ("features", ", ".join(features.FEATURES)),
            ("artifact sha256", artifact_sha256),
            ("library versions", ", ".join(f"{k} {v}" for k, v in library_versions.items())),
            ("created", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ], ("", "")),
        "<h2>Promotion gate</h2>",
        f"<p class='verdict'>Verdict: {verdict}.</p><p>Rule: {html.escape(decision['rule'])}.<br>"
        f"{html.escape(decision['reason'])}"
        + (f"<br>Champion evaluated from: {html.escape(str(decision.get('champion_source')))}" if decision.get("champion_source") else "")
        + "</p>",
        "<h2>Cross-validated metrics (calibrated probabilities, per fold)</h2>",
        _table(metric_rows, ("metric", "mean ± std", "min – max")),
        "<h2>Candidates compared</h2>",
        _table(candidate_rows, ("family", "estimator", "ROC-AUC mean ± std", "Brier", "draws", "seconds", "best parameters")),
        f"<img alt='candidates' src='data:image/png;base64,{plot_candidates(details, decision)}'>",
        "<h2>Training data</h2>",
        f"<img alt='class balance' src='data:image/png;base64,{plot_class_balance(y)}'>",
        f"<img alt='feature distributions' src='data:image/png;base64,{plot_feature_distributions(X, y)}'>",
        f"<img alt='correlation matrix' src='data:image/png;base64,{plot_correlation(X, y)}'>",
        "<h2>Discrimination</h2>",
        f"<img alt='roc and precision-recall' src='data:image/png;base64,{plot_roc_pr(y, folds, threshold)}'>",
        "<h2>Calibration and threshold</h2>",
        f"<img alt='calibration curve' src='data:image/png;base64,{plot_calibration(y, folds)}'>",
        f"<img alt='confusion matrix' src='data:image/png;base64,{plot_confusion(y, folds, threshold)}'>",
        "<h2>What drives the model</h2>",
        f"<img alt='permutation importance' src='data:image/png;base64,{plot_importance(metrics['permutation_importance'])}'>",
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Model card {html.escape(model_version)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>"
    )


def write_card(**context: Any) -> Path:
    """Render the card and write it under reports_dir()/model_cards/; return its path."""
    path = card_path_for(context["model_version"])
    path.write_text(render(**context), encoding="utf-8")
    return path
