"""The model card's plots, each a PNG as base64 text (matplotlib's Agg backend, no display).

Every plot has a title (TITLES: also the card's caption above it) and labelled axes; category
names are shown in full, wrapped, not cut.
"""

from __future__ import annotations

import base64
import io
import textwrap
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ml import features

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CLASS_NAMES = {0: "Прежний уровень (0)", 1: "Снизилась (1)"}
COLORS = {0: "#4C78A8", 1: "#E45756"}
# plot (the card's alt text) → its title, on the plot and above it on the card
TITLES = {
    "class balance": "Class balance (training set)",
    "feature distributions": "Feature distributions by class",
    "correlation matrix": "Spearman correlation (numeric features and the label)",
    "roc and precision-recall": "ROC and precision-recall curves (out-of-fold)",
    "calibration curve": "Calibration (out-of-fold, all repeats)",
    "confusion matrix": "Confusion matrix at the threshold (out-of-fold, first repeat)",
    "permutation importance": "Permutation importance (eval folds of the first repeat)",
    "candidates": "Candidates on the same evaluation folds",
}
LABEL_WIDTH = 22  # characters per line of a category name on an axis


def wrapped(label: str, width: int = LABEL_WIDTH) -> str:
    """A category name in full, broken into lines at spaces (never cut)."""
    return textwrap.fill(str(label), width=width, break_long_words=False) or str(label)


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
        pairs = pairs[repeat * n : (repeat + 1) * n]
    idx = np.concatenate([np.asarray(i) for i, _ in pairs])
    proba = np.concatenate([np.asarray(p) for _, p in pairs])
    return y[idx], proba


def plot_class_balance(y: np.ndarray) -> str:
    import numpy as np

    plt = _pyplot()
    counts = np.bincount(y, minlength=2)
    fig, ax = plt.subplots(figsize=(6, 4))
    bars = ax.bar([CLASS_NAMES[0], CLASS_NAMES[1]], counts, color=[COLORS[0], COLORS[1]])
    for bar, count in zip(bars, counts):
        ax.annotate(
            f"{count} ({count / counts.sum():.1%})",
            (bar.get_x() + bar.get_width() / 2, count),
            ha="center",
            va="bottom",
        )
    ax.set_xlabel("label («Снизилась» = purchasing activity dropped)")
    ax.set_ylabel("customers")
    ax.set_title(TITLES["class balance"])
    return _png(fig)


def plot_feature_distributions(X: pd.DataFrame, y: np.ndarray) -> str:
    """One panel per feature: class shares per category (horizontal bars, full names), else
    the density of each class."""
    import numpy as np

    plt = _pyplot()
    columns = list(features.FEATURES)
    ncols = 3
    nrows = int(np.ceil(len(columns) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(15, 4.8 * nrows))
    for ax, column in zip(axes.flat, columns):
        values = X[column]
        if column in features.CATEGORICAL or column in features.BOOLEAN:
            _category_shares(ax, values.astype(str), y, column)
        else:
            bins = np.histogram_bin_edges(values.astype(float), bins=20)
            for label in (0, 1):
                ax.hist(
                    values[y == label].astype(float),
                    bins=bins,
                    density=True,
                    alpha=0.55,
                    color=COLORS[label],
                    label=CLASS_NAMES[label],
                )
            ax.set_xlabel(column, fontsize=11)
            ax.set_ylabel("density within class", fontsize=11)
        ax.set_title(column, fontsize=13)
        ax.tick_params(labelsize=10)
    for ax in list(axes.flat)[len(columns) :]:
        ax.axis("off")
    fig.suptitle(TITLES["feature distributions"], fontsize=16)
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="upper right", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return _png(fig)


def _category_shares(ax: Any, values: pd.Series, y: np.ndarray, column: str) -> None:
    import numpy as np

    levels = sorted(values.unique())
    height = 0.4
    for k, label in enumerate((0, 1)):
        part = values[y == label]
        shares = [float((part == level).mean()) for level in levels]
        ax.barh(
            np.arange(len(levels)) + (k - 0.5) * height, shares, height, color=COLORS[label], label=CLASS_NAMES[label]
        )
    ax.set_yticks(np.arange(len(levels)))
    ax.set_yticklabels([wrapped(level) for level in levels], fontsize=11)
    ax.invert_yaxis()
    ax.set_xlabel("share of the class's customers", fontsize=11)
    ax.set_ylabel(column, fontsize=11)


def plot_correlation(X: pd.DataFrame, y: np.ndarray) -> str:
    """Rank correlations with one decimal in each cell, large enough to read."""
    plt = _pyplot()
    numeric = X[list(features.NUMERIC_INPUT)].astype(float).copy()
    numeric[features.TARGET] = y
    corr = numeric.corr(method="spearman")
    size = len(corr)
    fig, ax = plt.subplots(figsize=(0.75 * size + 3, 0.7 * size + 2))
    image = ax.imshow(corr.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(size))
    ax.set_yticks(range(size))
    ax.set_xticklabels(corr.columns, rotation=45, ha="right", fontsize=10)
    ax.set_yticklabels(corr.columns, fontsize=10)
    for i in range(size):
        for j in range(size):
            value = corr.iat[i, j]
            ax.text(
                j,
                i,
                f"{round(value, 1) + 0.0:.1f}",
                ha="center",
                va="center",
                fontsize=9,  # no "-0.0"
                color="white" if abs(value) > 0.6 else "black",
            )
    ax.set_xlabel("feature (or the label)")
    ax.set_ylabel("feature (or the label)")
    fig.colorbar(image, ax=ax, shrink=0.8, label="Spearman ρ")
    ax.set_title(TITLES["correlation matrix"], fontsize=13)
    return _png(fig)


def plot_roc_pr(y: np.ndarray, folds: Mapping[str, Any], threshold: float) -> str:
    import numpy as np
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    plt = _pyplot()
    repeats = len(folds["test_indices"]) // folds["n_splits"]
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(12, 5))
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
    pr_ax.scatter(
        [point_recall],
        [point_precision],
        color="black",
        zorder=3,
        label=f"threshold {threshold:.3f}: recall {point_recall:.2f}, precision {point_precision:.2f}",
    )
    roc_ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (out-of-fold, each repeat)")
    roc_ax.legend(fontsize=8, loc="lower right")
    pr_ax.axhline(np.mean(y), ls="--", color="grey", lw=1)
    pr_ax.set(xlabel="recall («Снизилась»)", ylabel="precision", title="Precision-recall (out-of-fold)")
    pr_ax.legend(fontsize=8, loc="lower left")
    fig.suptitle(TITLES["roc and precision-recall"])
    fig.tight_layout()
    return _png(fig)


def plot_calibration(y: np.ndarray, folds: Mapping[str, Any]) -> str:
    from sklearn.calibration import calibration_curve

    plt = _pyplot()
    yt, p = _pooled(y, folds)
    fraction, mean_predicted = calibration_curve(yt, p, n_bins=10, strategy="quantile")
    fig, (ax, hist_ax) = plt.subplots(2, 1, figsize=(5.5, 6), gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
    ax.plot(mean_predicted, fraction, marker="o", color=COLORS[1], label="model (deciles)")
    ax.set(xlabel="mean predicted probability", ylabel="observed share «Снизилась»", title=TITLES["calibration curve"])
    ax.xaxis.set_tick_params(labelbottom=True)
    ax.legend(fontsize=8)
    hist_ax.hist(p, bins=20, range=(0, 1), color=COLORS[0])
    hist_ax.set(xlabel="predicted probability", ylabel="customers")
    fig.tight_layout()
    return _png(fig)


def plot_confusion(y: np.ndarray, folds: Mapping[str, Any], threshold: float) -> str:
    from sklearn.metrics import confusion_matrix

    plt = _pyplot()
    yt, p = _pooled(y, folds, 0)
    matrix = confusion_matrix(yt, (p >= threshold).astype(int), labels=[0, 1])
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.imshow(matrix, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=14,
                color="white" if matrix[i, j] > matrix.max() / 2 else "black",
            )
    ax.set_xticks([0, 1])
    ax.set_yticks([0, 1])
    ax.set_xticklabels(["predicted 0", "predicted 1"])
    ax.set_yticklabels([CLASS_NAMES[0], CLASS_NAMES[1]])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("actual class")
    ax.set_title(f"{TITLES['confusion matrix']}\nthreshold {threshold:.3f}, each customer once", fontsize=10)
    return _png(fig)


def plot_importance(importance: Mapping[str, Mapping[str, float]]) -> str:
    plt = _pyplot()
    ordered = sorted(importance.items(), key=lambda kv: kv[1]["mean"])
    fig, ax = plt.subplots(figsize=(8, 0.36 * len(ordered) + 1.5))
    ax.barh(
        [k for k, _ in ordered], [v["mean"] for _, v in ordered], xerr=[v["std"] for _, v in ordered], color=COLORS[0]
    )
    ax.axvline(0, color="grey", lw=1)
    ax.set(
        xlabel="drop in held-out ROC-AUC when the column is shuffled",
        ylabel="feature",
        title=TITLES["permutation importance"],
    )
    ax.tick_params(axis="y", labelsize=9)
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
    ax.set(xlabel="model family", ylabel="ROC-AUC per evaluation fold", title=TITLES["candidates"])
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)
