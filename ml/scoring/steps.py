"""The scoring steps after the shards (ml/scoring/shards.py), and the chunk scorer they share;
job/pipelines/score.py declares their order.

- `validate(engine, snapshot_date)`: the scoring layer's GX gate (`etl.ops.batches.gate`) on the staged rows.
- `publish(engine, snapshot_date)`: one transaction moves the date's staged partition into the
  published table in place of the date's old one (the rows are written once, by the scoring COPY),
  so a rerun of a date gives the same rows and a failed gate publishes nothing.

Features stream `chunk_size` rows at a time (default 50 000, env CHURN_SCORE_CHUNK_SIZE); each
chunk is predicted, explained (ml/scoring/reasons.py), segmented (ml/segments.py), split into
treatment and holdout (ml/experiments.py) and COPYed into
the date's partition of `scoring.churn_scores_staged`, and nothing of it is kept.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import time
from typing import TYPE_CHECKING, Any, Iterator

from etl.warehouse import settings
from ml import experiments, features, segments
from ml.scoring.champion import Champion
from ml.scoring.reasons import Explainer

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy as sa

    from etl import quality

log = logging.getLogger(__name__)

# Column order of the COPY into scoring.churn_scores_staged (sql/scoring/copy_churn_scores_staged.sql).
OUTPUT_COLUMNS: tuple[str, ...] = (
    "score_date",
    "customer_id",
    "model_version",
    "churn_probability",
    "risk_band",
    "segment",
    "offer",
    "top_factors",
    "profit",
    "rules_version",
    "offer_group",
)


def chunk_size_from_env() -> int:
    return max(1, settings.current().CHURN_SCORE_CHUNK_SIZE)


def score_chunk(
    frame: pd.DataFrame,
    champion: Champion,
    explainer: Explainer,
    rules: segments.Rules,
    snapshot_date: dt.date,
) -> pd.DataFrame:
    """Score one chunk of feature rows (columns of features.customer_features) → OUTPUT_COLUMNS;
    offer_group: the experiment's holdout gets no offer (ml/experiments.py)."""
    import pandas as pd

    frame = frame.reset_index(drop=True)
    X = features.to_model_input(frame)
    proba = champion.model.predict_proba(X)[:, 1]
    impacts = explainer.impacts(X, proba)
    threshold = segments.threshold_for(champion.threshold, rules)
    bands = segments.risk_bands(proba, threshold, rules)
    segment, offer = segments.assign(frame.assign(churn_probability=proba, risk_band=bands), rules)
    ids = frame[features.ID].astype("int64")
    return pd.DataFrame(
        {
            "score_date": snapshot_date.isoformat(),
            "customer_id": ids,
            "model_version": champion.model_version,
            "churn_probability": proba,
            "risk_band": bands,
            "segment": segment,
            "offer": offer,
            "top_factors": explainer.top_factors(X, impacts),
            "profit": frame["profit"].astype(float),
            "rules_version": rules.version,
            "offer_group": experiments.assign_groups(ids, segment, rules.experiment),
        },
        columns=list(OUTPUT_COLUMNS),
    )


def iter_feature_chunks(
    conn: sa.Connection, snapshot_date: dt.date, chunk_size: int, shard: int = 0, shards: int = 1
) -> Iterator[pd.DataFrame]:
    """Active customers of the snapshot (of one shard: customer_id mod `shards` = `shard`),
    `chunk_size` rows at a time, streamed by COPY."""
    from etl.warehouse import frames

    params = {"score_date": snapshot_date, "shard": shard, "shards": shards}
    yield from frames.stream_frames(conn, "scoring", "select_scoring_input", params, chunk_size)


def copy_scored_chunks(
    reader: sa.Connection,
    writer: sa.Connection,
    snapshot_date: dt.date,
    chunk_size: int,
    champion: Champion,
    explainer: Explainer,
    rules: segments.Rules,
    shard: int = 0,
    shards: int = 1,
) -> tuple[int, int, float]:
    """Score each chunk (of one shard) read by `reader` and COPY it in `writer`'s transaction:
    (rows, chunks, seconds spent scoring)."""
    from etl.warehouse import db

    copy_sql = db.read_sql("scoring", "copy_churn_scores_staged")
    cursor = writer.connection.dbapi_connection.cursor()
    rows = chunks = 0
    predict_seconds = 0.0
    for chunk in iter_feature_chunks(reader, snapshot_date, chunk_size, shard, shards):
        tick = time.perf_counter()
        scored = score_chunk(chunk, champion, explainer, rules, snapshot_date)
        predict_seconds += time.perf_counter() - tick
        buffer = io.StringIO()
        scored.to_csv(buffer, index=False, header=False)
        buffer.seek(0)
        cursor.copy_expert(copy_sql, buffer)
        rows += len(scored)
        chunks += 1
    return rows, chunks, predict_seconds


def record_rules(conn: sa.Connection, rules: segments.Rules) -> None:
    """Store the rule file version for BI (segments, offers, reason phrases); a known version
    with other content is refused."""
    from etl.warehouse import db

    known = db.run_sql(conn, "scoring", "select_segment_rules_sha256", {"rules_version": rules.version}).scalars().all()
    if known and set(known) != {rules.sha256}:
        raise segments.RulesError(
            f"rule file version {rules.version} was already used with other content: bump `version` in {rules.path}"
        )
    if not known:
        for record in rules.records():
            db.run_sql(conn, "scoring", "insert_segment_rule", record)
    for record in rules.phrase_records():  # also for versions recorded before phrases were
        db.run_sql(conn, "scoring", "insert_factor_phrase", record)


def validate(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> quality.GateResult | None:
    """Run the scoring layer's gate (GX) on the staged scores; records that it passed this very batch.
    None: already published."""
    from etl.ops import batches

    return batches.gate(engine, "scoring", snapshot_date, run, step="validate_scores")


def publish(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> dict[str, Any]:
    """Replace the date's published scores with the gated staged ones, one transaction (the
    staged partition becomes the published one: sql/scoring/publish_churn_scores_staged.sql).

    Refuses staged rows that are missing or not gated since they were scored (`PublishRefused`);
    after a successful publish a retry returns the published rows and changes nothing.
    """
    from etl.ops import batches
    from etl.warehouse import db

    params = {"score_date": snapshot_date}

    def count_staged(conn: sa.Connection) -> int:
        db.run_sql(conn, "scoring", "lock_scoring")
        return db.run_sql(conn, "scoring", "count_staged_scores", params).mappings().one()["rows"]

    moved = batches.publish(
        engine,
        "scoring",
        snapshot_date,
        run,
        count_staged,
        lambda conn: swap_in_staged_partition(conn, snapshot_date),
        step="publish",
    )
    with engine.connect() as conn:
        models = db.run_sql(conn, "scoring", "select_published_model", params).mappings().all()
    result = {
        "score_date": snapshot_date.isoformat(),
        "rows": int(sum(m["customers"] for m in models)),
        "model_version": ",".join(sorted(m["model_version"] for m in models)),
        "already_published": not moved,
    }
    log.info(
        "%s %d scores of %s (%s)",
        "published" if moved else "already published",
        result["rows"],
        snapshot_date,
        result["model_version"],
    )
    return result


def swap_in_staged_partition(conn: sa.Connection, snapshot_date: dt.date) -> None:
    """Inside the caller's transaction: the staged partition of `snapshot_date` replaces the
    published one, and scoring.absent_from_newest follows (what mart.churn_scores_latest reads)."""
    from etl.warehouse import db

    params = {"score_date": snapshot_date}
    previous = db.run_sql(conn, "scoring", "select_scores_leaving_date", params).scalar()
    db.run_sql(conn, "scoring", "publish_churn_scores_staged", params)
    db.run_sql(conn, "scoring", "merge_into_absent_from_newest", {**params, "previous_newest": previous})


def latest_features_snapshot(engine: sa.Engine) -> dt.date | None:
    """The newest snapshot with active customers (the DAG's fallback date for a bare manual run)."""
    from etl.warehouse import db

    with engine.connect() as conn:
        return db.run_sql(conn, "scoring", "select_latest_features_snapshot").scalar()


def snapshots_to_score(engine: sa.Engine) -> list[dt.date]:
    """Snapshots whose published features are newer than their published scores, and the newest
    one when the champion did not score it (sql/scoring/select_snapshots_to_score.sql)."""
    from etl.warehouse import db

    with engine.connect() as conn:
        return list(db.run_sql(conn, "scoring", "select_snapshots_to_score").scalars())
