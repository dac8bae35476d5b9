"""A scored snapshot: what the published scores of a snapshot date show (rows, model, risk bands,
segments, drift), and its lines in the summary `make run` prints."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    import sqlalchemy as sa


def scored_snapshot(engine: sa.Engine, snapshot_date: dt.date) -> dict[str, Any]:
    """The published scores of a snapshot date: rows, model and its CV ROC-AUC, mean
    probability, risk bands, customers and profit at risk per segment (rule precedence order)."""
    from etl.warehouse import db

    params = {"score_date": snapshot_date}
    with engine.connect() as conn:
        totals = dict(db.run_sql(conn, "status", "summarize_scores", params).mappings().one())
        per_segment = [dict(r) for r in db.run_sql(conn, "status", "summarize_segments", params).mappings()]
        drift = dict(db.run_sql(conn, "status", "summarize_drift", params).mappings().one())
    return {
        "score_date": snapshot_date.isoformat(),
        "rows_scored": int(totals["rows_scored"]),
        "model_version": totals["model_version"],
        "cv_roc_auc_mean": totals["cv_roc_auc_mean"],
        "cv_roc_auc_std": totals["cv_roc_auc_std"],
        "threshold": totals["threshold"],
        "mean_probability": totals["mean_probability"],
        "risk_bands": {"high": int(totals["high"]), "medium": int(totals["medium"]), "low": int(totals["low"])},
        "profit_at_risk": totals["profit_at_risk"],
        "rules_version": totals["rules_version"],
        "segments": {r["segment"]: int(r["customers"]) for r in per_segment},
        "segment_details": per_segment,
        "psi_max": drift["psi_max"],
        "psi_max_variable": drift["psi_max_variable"],
        "psi_shifted": list(drift["psi_shifted"] or []),
    }


def render_scored_snapshot(values: Mapping[str, Any]) -> str:
    """Its lines in the summary `make run` prints (job/local/summary.py)."""
    if not values.get("rows_scored"):
        return f"scores:       none published for {values.get('score_date')}"
    lines = [
        "scores:       {rows_scored} customers scored by {model_version} (CV ROC-AUC {auc}), mean probability "
        "{mean:.3f}; risk high {high} / medium {medium} / low {low}".format(
            auc="n/a" if values["cv_roc_auc_mean"] is None else f"{values['cv_roc_auc_mean']:.3f}",
            mean=values["mean_probability"],
            **values,
            **values["risk_bands"],
        ),
    ]
    for row in values["segment_details"]:
        lines.append(
            f"  {row['segment']:<24} {row['customers']:>7} customers, mean p {row['mean_probability']:.3f}, "
            f"profit at risk {row['profit_at_risk']:.1f}"
        )
    if values.get("psi_max") is not None:
        shifted = ", ".join(values["psi_shifted"]) or "none"
        lines.append(f"drift (PSI):  max {values['psi_max']:.3f} ({values['psi_max_variable']}); above 0.2: {shifted}")
    return "\n".join(lines)
