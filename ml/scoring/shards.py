"""Sharded scoring: churn_score splits a snapshot's customers into shards scored side by side.

plan_shards → score_shard × N (mapped tasks, in parallel; on Celery spread over workers) →
collect_shards → the one GX gate and the one atomic publish of ml/scoring/steps.py.

- A shard is the customers with customer_id mod N = i; N comes from env CHURN_SCORE_SHARDS
  (default 2, one per core here). Each shard runs the chunk scorer of ml/scoring/steps.py, so
  any shard count writes identical rows.
- `plan_shards` fixes the champion version for every shard (a champion promoted mid-run cannot
  mix models into one date), clears the date's staged rows and voids any earlier pass of their gate.
- Each shard replaces only its own staged rows in its own transaction, so a failed shard is
  retried alone. Nothing is published until `collect_shards` has checked that every shard holds
  exactly its customers, all scored by the same model and rule file; only then is the staged
  batch recorded, and only a recorded, gated batch is published (etl/ops/batches.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

from ml import registry, segments
from ml.scoring.champion import Champion
from ml.scoring.reasons import Explainer
from ml.scoring.steps import chunk_size_from_env, copy_scored_chunks, record_rules

if TYPE_CHECKING:
    import sqlalchemy as sa

log = logging.getLogger(__name__)


class ShardsIncomplete(RuntimeError):
    """The staged rows of a date are not exactly one scoring of every active customer."""


def shard_count_from_env() -> int:
    from etl.warehouse import settings

    return max(1, settings.current().CHURN_SCORE_SHARDS)


def plan_shards(
    engine: sa.Engine,
    snapshot_date: dt.date,
    shards: int | None = None,
    run: str | None = None,
    rules: segments.Rules | None = None,
) -> list[dict[str, Any]]:
    """One JSON-able item per shard of the date (the mapped tasks' argument), after clearing the
    date's staged rows and recording the rule file (`rules`: the one in config), in one transaction."""
    from etl.ops import batches, claims
    from etl.warehouse import db

    shards = shards or shard_count_from_env()
    rules = rules or segments.load_rules()
    champion = registry.get_champion(engine)
    if champion is None:
        raise LookupError("no champion model: train one first (churn_retrain)")
    with engine.begin() as conn:
        claims.hold(conn, "score", snapshot_date, run, "plan_shards")
        db.run_sql(conn, "scoring", "lock_scoring")
        record_rules(conn, rules)
        db.run_sql(conn, "scoring", "replace_churn_scores_staged_partition", {"score_date": snapshot_date})
        batches.record_staged(conn, "scoring", snapshot_date, run, 0)  # voids an earlier gate pass of the date
    common = {
        "snapshot_date": snapshot_date.isoformat(),
        "shards": shards,
        "model_version": champion["model_version"],
        "rules_version": rules.version,
    }
    return [{**common, "shard": shard} for shard in range(shards)]


def score_shard(
    engine: sa.Engine, item: dict[str, Any], run: str | None = None, chunk_size: int | None = None
) -> dict[str, Any]:
    """Score one item of `plan_shards` (a shard) into the staged rows, replacing only that shard's rows."""
    from etl.ops import claims
    from etl.warehouse import db, settings

    snapshot_date = settings.parse_date(item["snapshot_date"], "the shard's snapshot_date")
    shard, shards = int(item["shard"]), int(item["shards"])
    with engine.begin() as conn:  # the claim in a short transaction: shards must not wait on each other
        claims.hold(conn, "score", snapshot_date, run, f"score_shard {shard}/{shards}")
    rules = segments.load_rules()
    if rules.version != item["rules_version"]:
        raise segments.RulesError(
            f"the rule file changed to version {rules.version} since this run planned "
            f"version {item['rules_version']}: rerun churn_score"
        )
    champion = Champion.from_bundle(*registry.load_bundle(engine, item["model_version"]))
    explainer = Explainer(champion.model, champion.baseline, rules)
    params = {"score_date": snapshot_date, "shard": shard, "shards": shards}
    started = time.perf_counter()
    with engine.connect() as reader, engine.begin() as writer:
        db.run_sql(writer, "scoring", "delete_churn_scores_staged_shard", params)
        rows, chunks, model_seconds = copy_scored_chunks(
            reader,
            writer,
            snapshot_date,
            chunk_size or chunk_size_from_env(),
            champion,
            explainer,
            rules,
            shard,
            shards,
        )
    seconds = time.perf_counter() - started
    log.info(
        "scored shard %d/%d of %s: %d customers in %d chunk(s), %.1f s (model+factors+segments %.1f s)",
        shard,
        shards,
        snapshot_date,
        rows,
        chunks,
        seconds,
        model_seconds,
    )
    return {
        **item,
        "rows": rows,
        "chunks": chunks,
        "seconds": round(seconds, 3),
        "model_seconds": round(model_seconds, 3),
    }


def collect_shards(
    engine: sa.Engine, snapshot_date: dt.date, shards: int | None = None, run: str | None = None
) -> dict[str, Any]:
    """Check that every shard holds exactly its customers, scored once by one model and rule
    file, then record the staged batch the gate checks (ShardsIncomplete otherwise)."""
    from etl.ops import batches, claims
    from etl.warehouse import db

    shards = shards or shard_count_from_env()
    params = {"score_date": snapshot_date, "shards": shards}
    with engine.begin() as conn:
        claims.hold(conn, "score", snapshot_date, run, "collect_shards")
        db.run_sql(conn, "scoring", "lock_scoring")
        counts = [dict(r) for r in db.run_sql(conn, "scoring", "count_staged_shards", params).mappings()]
        customers = sum(c["customers"] for c in counts)
        batch = batches.current(conn, "scoring", snapshot_date)
        if batch is not None and batch.published_at is not None and not any(c["scores"] for c in counts):
            log.info("scores of %s already published (batch %s): nothing to collect", snapshot_date, batch.batch_id)
            return {
                "score_date": snapshot_date.isoformat(),
                "rows": batch.rows,
                "shards": shards,
                "already_published": True,
            }
        if customers == 0:
            raise LookupError(
                f"no active customers in features.customer_features for {snapshot_date}: run churn_ingest for that date first"
            )
        wrong = [c for c in counts if not c["customers"] == c["scores"] == c["scored_customers"]]
        models = {m for c in counts for m in c["model_versions"]}
        rule_files = {r for c in counts for r in c["rules_versions"]}
        if wrong or len(models) != 1 or len(rule_files) != 1:
            raise ShardsIncomplete(
                f"staged scores of {snapshot_date} are not one scoring of every active customer: "
                + "; ".join(
                    f"shard {c['shard']}/{shards}: {c['scores']} scores for {c['customers']} customers" for c in wrong
                )
                + (
                    f"; models {sorted(models)}, rule versions {sorted(rule_files)}"
                    if len(models) != 1 or len(rule_files) != 1
                    else ""
                )
                + ": rerun churn_score for the date"
            )
        db.run_sql(conn, "scoring", "analyze_churn_scores_staged", {"score_date": snapshot_date})
        batches.record_staged(conn, "scoring", snapshot_date, run, customers)
    result = {
        "score_date": snapshot_date.isoformat(),
        "rows": customers,
        "shards": shards,
        "model_version": models.pop(),
    }
    log.info(
        "collected %d shard(s) of %s: %d staged scores by %s", shards, snapshot_date, customers, result["model_version"]
    )
    return result
