"""The targeting card's plots, each a PNG as base64 text (matplotlib's Agg backend)."""

from __future__ import annotations

from typing import Any, Mapping

from ml.model_card_plots import _png, _pyplot


def plots(figures: Mapping[str, Any]) -> dict[str, str]:
    return {"qini": _qini(figures), "deciles": _deciles(figures)}


def _qini(figures: Mapping[str, Any]) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    shares, model = figures["curve"]
    _, rules = figures["curve_rules"]
    ax.plot(shares, model, marker="o", label="uplift model")
    ax.plot(shares, rules, marker="s", label="rules (riskiest first)")
    ax.plot([0, 1], [0, model[-1]], linestyle="--", color="grey", label="random targeting")
    ax.set_xlabel("share of customers contacted, best-ranked first")
    ax.set_ylabel("customers kept per customer (cumulative)")
    ax.legend()
    return _png(fig)


def _deciles(figures: Mapping[str, Any]) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    deciles = figures["deciles"]
    x = [d["decile"] for d in deciles]
    ax.bar([v - 0.2 for v in x], [d["predicted"] for d in deciles], width=0.4, label="estimated")
    ax.bar([v + 0.2 for v in x], [d["observed"] for d in deciles], width=0.4, label="observed (doubly robust)")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(x)
    ax.set_xlabel("decile of the estimated uplift (1 = highest)")
    ax.set_ylabel("uplift: fewer «Снизилась» (0..1)")
    ax.legend()
    return _png(fig)
