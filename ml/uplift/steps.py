"""The uplift steps of the pipelines (job/pipelines/): `train_uplift` after the churn model's
promotion gate (monthly), `target_offers` after the shards are collected (nightly).

- train_uplift: the settled experiment rows up to the snapshot → ml.uplift.training (models per
  offer family, held-out evaluation, off-policy gate) → ml.uplift_models, artifact and targeting
  card. The gate promotes the model when its policy's gain over the rules is surely above 0 and
  it is not surely worse than the champion's on the same rows; the champion stays otherwise.
- target_offers: the staged scores of the date decided by the champion uplift model's policy, or
  by the rules when there is none (the reason is kept: cold start, or a gate not passed), in one
  transaction with the date's targeting summary (scoring.targeting_decisions / _segments).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import logging
from typing import TYPE_CHECKING, Any

from ml import segments
from ml.uplift import registry, targeting, training

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy as sa

log = logging.getLogger(__name__)

METHOD = "dr"  # chosen by measurement: bench/results/*-uplift.json (ml/uplift/README.md)


def settled_rows(engine: sa.Engine, as_of: dt.date, rules: segments.Rules) -> pd.DataFrame:
    """Settled experiment rows up to `as_of`; scores from before targeting get the odds their
    experiment had (treatment group sent, holdout share per segment) and their offer's cost."""
    import numpy as np
    import pandas as pd

    from etl.warehouse import frames

    with engine.connect() as conn:
        parts = list(frames.stream_frames(conn, "uplift", "select_settled_experiment_rows", {"as_of": as_of}, 200_000))
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if rows.empty:
        return rows
    known = {s.code: s for s in rules.segments}
    rows = rows[rows["segment"].isin(list(known))].reset_index(drop=True)
    before = rows["send_offer"].isna()
    share = rows["segment"].map(rules.experiment.share).astype(float)
    rows.loc[before, "send_offer"] = rows.loc[before, "offer_group"].eq("treatment")
    rows.loc[before, "treatment_probability"] = 1 - share[before]
    rows["contact_cost"] = rows["contact_cost"].fillna(rows["segment"].map(lambda c: known[c].offer_cost))
    rows["send_offer"] = rows["send_offer"].astype(bool)
    p = rows["treatment_probability"].astype(float)
    return rows[(p > 0) & (p < 1) & np.isfinite(p)].reset_index(drop=True)


def train_uplift(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> dict[str, Any]:
    """Train, judge and register the uplift models for `snapshot_date` (module docstring)."""
    from ml import registry as churn_registry
    from ml.uplift import card

    rules = segments.load_rules()
    run_key = f"{snapshot_date.isoformat()}/{run or 'manual-' + dt.datetime.now(dt.timezone.utc).isoformat()}"
    done = registry.get_by_run_key(engine, run_key)
    if done is not None:
        log.info("uplift run %s is registered already (%s): nothing to do", run_key, done["status"])
        return _outcome(done)
    rows = settled_rows(engine, snapshot_date, rules)
    verdict = training.train_and_judge(rows, rules, METHOD)
    version = f"uplift-{snapshot_date:%Y%m%d}-{hashlib.sha256(run_key.encode()).hexdigest()[:8]}"
    record: dict[str, Any] = {
        "model_version": version,
        "status": "challenger" if verdict.models else "insufficient_data",
        "trained_for": snapshot_date,
        "method": METHOD,
        "settled_rows": len(rows),
        "reason": verdict.reason,
        "metrics": {**verdict.metrics, "library_versions": churn_registry.library_versions()},
        "artifact_path": None,
        "artifact_sha256": None,
        "card_path": None,
        "run_key": run_key,
    }
    if verdict.models:
        verdict = _against_champion(engine, verdict, rules)
        record["reason"], record["metrics"] = verdict.reason, {**record["metrics"], **verdict.metrics}
        record["artifact_path"], record["artifact_sha256"] = registry.save_models(version, verdict.models, METHOD)
        record["card_path"] = str(card.write_card(version, snapshot_date, verdict, rules))
    row = registry.register(engine, record, promote=verdict.use_uplift)
    log.info("uplift %s: %s — %s", version, row["status"], verdict.reason)
    return _outcome(row)


def _against_champion(engine: sa.Engine, verdict: training.Verdict, rules: segments.Rules) -> training.Verdict:
    """The gate's second half, like the churn model's: a challenger that beats the rules replaces
    the champion unless, on the same held-out rows, it is surely worse than the champion's policy."""
    champion = registry.get_champion(engine)
    if not verdict.use_uplift or champion is None:
        return verdict
    gain = training.versus(verdict, rules, registry.load_models(champion))
    metrics = {**verdict.metrics, "versus_champion": {"champion": champion["model_version"], **gain.as_dict()}}
    if gain.high >= 0:
        return dataclasses.replace(verdict, metrics=metrics)
    reason = (
        f"uplift policy: its gain over the champion {champion['model_version']} {gain.value:.1f} "
        f"[{gain.low:.1f}, {gain.high:.1f}] is surely below 0: the champion stays"
    )
    return dataclasses.replace(verdict, use_uplift=False, reason=reason, metrics=metrics)


def _outcome(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: str(row[key]) if row[key] is not None else None
        for key in ("model_version", "status", "reason", "card_path")
    }


def target_offers(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> dict[str, Any]:
    """Decide every staged score of the date (module docstring); nothing staged: already published."""
    import pandas as pd

    from etl.ops import claims
    from etl.warehouse import db, frames

    rules = segments.load_rules()
    champion = registry.get_champion(engine)
    models = registry.load_models(champion) if champion else None
    reason = champion["reason"] if champion else _why_rules(engine, rules)
    params = {"score_date": snapshot_date}
    with engine.begin() as conn:
        claims.hold(conn, "score", snapshot_date, run, "target_offers")
        db.run_sql(conn, "scoring", "lock_scoring")
        parts = list(frames.stream_frames(conn, "uplift", "select_targeting_input", params, 200_000))
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if frame.empty:
            log.info("no staged scores of %s: already published, nothing to target", snapshot_date)
            return {"score_date": snapshot_date.isoformat(), "customers": 0}
        missing = targeting.missing_families(frame, rules, models) if models else []
        if missing:
            reason = (
                f"uplift policy: the champion {champion['model_version']} has no model for the offer families "
                f"{', '.join(missing)}: the rules decide until the next uplift training"
            )
            champion, models = None, None
        decided = targeting.target(frame, rules, models)
        by_rules = targeting.target(frame, rules, None) if models else decided
        _write_decisions(conn, snapshot_date, frame, decided)
        db.run_sql(conn, "uplift", "delete_targeting_decision", params)
        db.run_sql(
            conn,
            "uplift",
            "insert_targeting_decision",
            _decision_row(snapshot_date, rules, champion, reason, len(frame)),
        )
        for segment_row in _segment_rows(snapshot_date, frame, decided, by_rules, rules):
            db.run_sql(conn, "uplift", "insert_targeting_segment", segment_row)
    result = {
        "score_date": snapshot_date.isoformat(),
        "customers": len(frame),
        "policy": "uplift" if models else "rules",
        "reason": reason,
        "contacts": int(decided["send_offer"].sum()),
        "cost": round(float(decided.loc[decided["send_offer"], "contact_cost"].sum()), 2),
    }
    log.info("targeting of %s: %s", snapshot_date, result)
    return result


def _why_rules(engine: sa.Engine, rules: segments.Rules) -> str:
    latest = registry.get_latest(engine)
    if latest is not None and latest["status"] in ("insufficient_data", "rejected"):
        return latest["reason"]
    if latest is not None:  # e.g. the champion was retired by hand
        return (
            f"uplift policy: no champion uplift model (the newest, {latest['model_version']}, is {latest['status']}): "
            "the rules decide until the next uplift training"
        )
    needed = rules.targeting.min_settled_rows * len({s.offer_family for s in rules.segments})
    return f"uplift policy: not enough experiment data yet (0 of {needed}): no uplift training has run yet"


def _write_decisions(conn: sa.Connection, snapshot_date: dt.date, frame, decided) -> None:
    from etl.warehouse import db

    db.run_sql(conn, "uplift", "create_targeting_updates")
    out = decided.assign(customer_id=frame["customer_id"].to_numpy())
    buffer = io.StringIO()
    out[["customer_id", *targeting.OUTPUT_COLUMNS]].to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    conn.connection.dbapi_connection.cursor().copy_expert(db.read_sql("uplift", "copy_targeting_updates"), buffer)
    db.run_sql(conn, "uplift", "update_churn_scores_staged_targeting", {"score_date": snapshot_date})


def _decision_row(snapshot_date, rules, champion, reason: str, customers: int) -> dict[str, Any]:
    gain = _scaled_gain(champion, customers) if champion else (None, None, None)
    budget = rules.targeting.budget
    return {
        "score_date": snapshot_date,
        "policy": "uplift" if champion else "rules",
        "reason": reason,
        "uplift_model_version": champion["model_version"] if champion else None,
        "rules_version": rules.version,
        "budget_max_cost": budget.max_cost,
        "budget_max_contacts": budget.max_contacts,
        "customers": customers,
        "expected_gain": gain[0],
        "expected_gain_low": gain[1],
        "expected_gain_high": gain[2],
    }


def _scaled_gain(champion, customers: int) -> tuple[float, float, float]:
    """The champion's off-policy gain over the rules, from its held-out customers to this date's."""
    metrics = champion["metrics"]
    per_date = metrics["evaluation_rows"] / max(len(metrics.get("evaluation_dates", [])) or 1, 1)
    scale = customers / max(per_date, 1)
    gain = metrics["gain"]
    return gain["value"] * scale, gain["low"] * scale, gain["high"] * scale


def _segment_rows(snapshot_date, frame, decided, by_rules, rules) -> list[dict[str, Any]]:
    months = rules.targeting.horizon_months
    kept = decided["expected_uplift"] * frame["profit"] * months
    rows = []
    for segment, index in frame.groupby("segment", sort=True).groups.items():
        sent, rules_sent = decided.loc[index, "send_offer"], by_rules.loc[index, "send_offer"]
        has_model = decided.loc[index, "expected_uplift"].notna().all()
        rows.append(
            {
                "score_date": snapshot_date,
                "segment": segment,
                "customers": len(index),
                "contacts": int(sent.sum()),
                "cost": float(decided.loc[index, "contact_cost"][sent].sum()),
                "expected_retained_profit": float(kept[index][sent].sum()) if has_model else None,
                "rules_contacts": int(rules_sent.sum()),
                "rules_cost": float(by_rules.loc[index, "contact_cost"][rules_sent].sum()),
                "rules_expected_retained_profit": float(kept[index][rules_sent].sum()) if has_model else None,
            }
        )
    return rows
