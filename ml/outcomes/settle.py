"""Settling scores: when a snapshot's labels arrive, how did the scores and the offers do?

The churn_score DAG's `settle_outcomes` task calls `settle_outcomes(engine, snapshot)` after it
publishes the snapshot's scores. The scored snapshot dates it settles (sql/outcomes/select_score_dates_to_settle.sql:
those whose settling snapshot it is, itself when already settled, any settled date still
without outcomes) are each replaced in one transaction: realized performance per model,
calibration deciles, offer effects per segment and offer. Everything is a deterministic
function of the published scores and features, so a rerun writes identical rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from ml import experiments, registry, segments
from ml.uplift import policy

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy as sa

log = logging.getLogger(__name__)

READ_CHUNK = 200_000


def settle_outcomes(engine: sa.Engine, snapshot: dt.date, run: str | None = None) -> list[dict[str, Any]]:
    """Replace the outcomes of every scored snapshot date the run of `snapshot` settles; one result
    (counts) per snapshot date. Claims no date (`run` is for the task's signature): it runs after publish
    released the date, and writers of outcomes wait for each other (sql/outcomes/lock_outcomes.sql)."""
    from etl.warehouse import db

    experiment = segments.load_rules().experiment
    with engine.connect() as conn:
        due = db.run_sql(conn, "outcomes", "select_score_dates_to_settle", {"snapshot_date": snapshot}).all()
    if not due:
        log.info(
            "no scored snapshot date is settled by %s: a score settles with the first snapshot on or after "
            "its date + 3 months (no outcome yet)",
            snapshot,
        )
    return [settle_scores_of(engine, snapshot_date, settled_by, experiment) for snapshot_date, settled_by in due]


def settle_scores_of(
    engine: sa.Engine, snapshot_date: dt.date, settled_by: dt.date, experiment: experiments.Experiment
) -> dict[str, Any]:
    """One transaction: the outcomes of the scores of `snapshot_date` deleted and written again
    from those scores and the labels of the snapshot `settled_by`."""
    import pandas as pd

    from etl.warehouse import db, frames

    params = {"score_date": snapshot_date, "settled_by": settled_by}
    with engine.begin() as conn:
        db.run_sql(conn, "outcomes", "lock_outcomes")
        parts = list(frames.stream_frames(conn, "outcomes", "select_settled_scores", params, READ_CHUNK))
        scores = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        db.run_sql(conn, "outcomes", "delete_outcomes_of_score_date", params)
        settled = scores[scores["churned"].notna()] if len(scores) else scores
        performance = (
            [
                _write_performance(conn, engine, params, scores, group, experiment)
                for _, group in settled.groupby("model_version", sort=True)
            ]
            if len(settled)
            else []
        )
        effects = (
            [
                _write_effect(conn, params, key, group, experiment)
                for key, group in settled.groupby(["segment", "offer_code", "rules_version"], sort=True)
            ]
            if len(settled)
            else []
        )
    result = {
        "score_date": snapshot_date.isoformat(),
        "settled_by": settled_by.isoformat(),
        "scored_customers": len(scores),
        "settled_customers": len(settled),
        "models": performance,
        "effects": len(effects),
        "effects_lowering_churn": sum(e["verdict"] == "offer lowers churn" for e in effects),
    }
    log.info(
        "settled the scores of %s by the labels of %s: %d of %d customers, %d offer effect rows",
        snapshot_date,
        settled_by,
        len(settled),
        len(scores),
        len(effects),
    )
    return result


def _evaluated(group: pd.DataFrame, experiment: experiments.Experiment):
    """(rows, evaluated_on, weights) the realized figures are over: the experiment's holdout; once a
    budget or the uplift policy left customers out, every customer sent no offer, weighted by the
    inverse probability of that ('untreated': the holdout alone would hold only the customers the
    policy reached, the riskiest under the rules, and the untreated unweighted would lack them, a
    narrower range of risk that lowers the ROC-AUC with no fault of the model); too few of those:
    every settled customer."""
    untreated = group[group["offer_group"].isin([experiments.HOLDOUT, policy.NOT_TARGETED])]
    if len(untreated) < experiment.min_group:
        return group, "all settled", None
    if not (untreated["offer_group"] == policy.NOT_TARGETED).any():
        return untreated, "holdout", None
    return untreated, "untreated", 1.0 / (1.0 - untreated["treatment_probability"].to_numpy(dtype=float))


def _write_performance(
    conn: sa.Connection,
    engine: sa.Engine,
    params: dict[str, Any],
    scores: pd.DataFrame,
    group: pd.DataFrame,
    experiment: experiments.Experiment,
) -> dict[str, Any]:
    """The realized performance and calibration of one model's scores of the date, over the
    customers sent no offer (`_evaluated`): offers change the outcome of the treated, the model
    predicts it without one. Below CV: the whole realized interval lies under the CV ROC-AUC minus
    its spread, a drop that the sampling noise of the realized figure cannot explain."""
    from etl.warehouse import db
    from ml.outcomes import stats

    version = str(group["model_version"].iloc[0])
    evaluated, evaluated_on, weights = _evaluated(group, experiment)
    labels = evaluated["churned"].to_numpy(dtype=int)
    probabilities = evaluated["churn_probability"].to_numpy(dtype=float)
    if weights is not None:
        auc = stats.weighted_roc_auc_ci(labels, probabilities, weights, level=experiment.confidence)
    else:
        auc = stats.roc_auc_ci(labels, probabilities, level=experiment.confidence)
    model = registry.get_model(engine, version) or {}
    cv_mean, cv_std = model.get("cv_roc_auc_mean"), model.get("cv_roc_auc_std")
    below = auc["roc_auc_high"] is not None and cv_mean is not None and auc["roc_auc_high"] < cv_mean - (cv_std or 0.0)
    row = {
        **params,
        "model_version": version,
        "scored_customers": int((scores["model_version"] == version).sum()),
        "settled_customers": len(group),
        "evaluated_on": evaluated_on,
        "customers": int(labels.size),
        "churned": int(labels.sum()),
        "mean_probability": float(probabilities.mean()),
        "roc_auc": auc["roc_auc"],
        "roc_auc_low": auc["roc_auc_low"],
        "roc_auc_high": auc["roc_auc_high"],
        "brier_score": stats.brier_score(labels, probabilities, weights),
        "cv_roc_auc_mean": cv_mean,
        "cv_roc_auc_std": cv_std,
        "below_cv": bool(below),
        "confidence": experiment.confidence,
    }
    db.run_sql(conn, "outcomes", "insert_realized_performance", row)
    for decile in stats.calibration_deciles(labels, probabilities):
        db.run_sql(conn, "outcomes", "insert_calibration_decile", {**params, "model_version": version, **decile})
    if below:
        _warn_below_cv(row, params, evaluated_on)
    return {
        "model_version": version,
        "customers": row["customers"],
        "roc_auc": row["roc_auc"],
        "brier_score": row["brier_score"],
        "below_cv": row["below_cv"],
    }


def _write_effect(
    conn: sa.Connection,
    params: dict[str, Any],
    key: tuple[str, str, str],
    group: pd.DataFrame,
    experiment: experiments.Experiment,
) -> dict[str, Any]:
    """Treated vs holdout of one segment and offer of the date."""
    from etl.warehouse import db
    from ml.outcomes import stats

    segment, offer_code, rules_version = key
    treated = group[group["offer_group"] == experiments.TREATMENT]
    holdout = group[group["offer_group"] == experiments.HOLDOUT]
    effect = stats.offer_effect(
        treated["churned"].to_numpy(dtype=int),
        holdout["churned"].to_numpy(dtype=int),
        treated["revenue_change"].to_numpy(dtype=float),
        holdout["revenue_change"].to_numpy(dtype=float),
        level=experiment.confidence,
        min_group=experiment.min_group,
    )
    row = {
        **params,
        "segment": segment,
        "offer_code": offer_code,
        "rules_version": rules_version,
        **effect,
        "confidence": experiment.confidence,
        "min_group": experiment.min_group,
    }
    db.run_sql(conn, "outcomes", "insert_offer_effect", row)
    return row


def realized_for_model(engine: sa.Engine, model_version: str) -> list[dict[str, Any]]:
    """A model's realized performance rows, newest snapshot date first (JSON-able)."""
    from etl.warehouse import db

    with engine.connect() as conn:
        rows = (
            db.run_sql(conn, "outcomes", "select_realized_performance_of_model", {"model_version": model_version})
            .mappings()
            .all()
        )
    return [
        {key: (value.isoformat() if isinstance(value, dt.date) else value) for key, value in row.items()}
        for row in rows
    ]


def _warn_below_cv(row: dict[str, Any], params: dict[str, Any], evaluated_on: str) -> None:
    log.warning(
        "realized ROC-AUC %.3f [%.3f, %.3f] of %s on the scores of %s (settled by %s, %d customers of "
        "the %s) is below its CV ROC-AUC %.3f minus its spread %.3f: the model no longer ranks customers "
        "as it did in training — check drift (mart.model_drift) and retrain",
        row["roc_auc"],
        row["roc_auc_low"],
        row["roc_auc_high"],
        row["model_version"],
        params["score_date"],
        params["settled_by"],
        row["customers"],
        evaluated_on,
        row["cv_roc_auc_mean"],
        row["cv_roc_auc_std"] or 0.0,
    )
