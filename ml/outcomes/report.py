"""The outcome lines `make run` prints: realized performance per scored snapshot date, then the offer
effects of the newest settled one, from the mart views BI reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    import sqlalchemy as sa


def _number(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _performance_line(row: Mapping[str, Any]) -> str:
    if row["status"] == "no outcome yet":
        return f"  {row['score_date']}  {row['model_version']}: {row['status_text']}"
    return (
        f"  {row['score_date']}  {row['model_version']}  settled by {row['settled_by']}: "
        f"{row['settled_customers']} customers, over {row['evaluated_customers']} of the {row['evaluated_on']}: "
        f"ROC-AUC {_number(row['roc_auc'])} "
        f"[{_number(row['roc_auc_low'])}, {_number(row['roc_auc_high'])}] vs CV {_number(row['cv_roc_auc'])} "
        f"± {_number(row['cv_roc_auc_spread'])}, Brier {_number(row['brier_score'])}, «Снизилась» "
        f"{_number(row['realized_churn_rate'])} realized vs {_number(row['mean_predicted_probability'])} predicted"
        + ("  WARNING: below CV minus spread, retrain" if row["status"] == "below cv" else "")
    )


def _effect_line(row: Mapping[str, Any]) -> str:
    if row["verdict"] in ("too small to tell", "no customers"):
        return f"  {row['segment_code']:<26} {row['verdict_text']}"
    return (
        f"  {row['segment_code']:<26} {row['treated_customers']:>6} treated / {row['holdout_customers']:>5} held out: "
        f"«Снизилась» {_number(row['treated_churn_rate'])} vs {_number(row['holdout_churn_rate'])}, difference "
        f"{_number(row['churn_rate_difference'])} [{_number(row['churn_rate_difference_low'])}, "
        f"{_number(row['churn_rate_difference_high'])}], revenue {_number(row['revenue_change_difference'], 1)} "
        f"— {row['verdict']}"
    )


def render_outcomes(engine: sa.Engine) -> str:
    """Realized performance of every scored snapshot date, and the offer effects of the newest settled one."""
    from etl.warehouse import db

    with engine.connect() as conn:
        performance = db.run_sql(conn, "status", "summarize_realized_performance").mappings().all()
        effects = db.run_sql(conn, "status", "summarize_offer_effects").mappings().all()
    lines = ["realized performance (mart.realized_performance):"]
    lines += [_performance_line(row) for row in performance] or ["  no score published yet"]
    if effects:
        lines.append(
            f"offer effects of the scores of {effects[0]['score_date']}, treated vs holdout (mart.offer_effects):"
        )
        lines += [_effect_line(row) for row in effects]
    else:
        lines.append("offer effects (mart.offer_effects): no outcome has arrived yet")
    return "\n".join(lines)
