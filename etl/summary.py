"""The end-of-run summary `make run` prints: what was loaded, gated, trained and scored."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from etl import db


def render(engine: sa.Engine, snapshot: dt.date) -> str:
    params = {"snapshot_date": snapshot}
    with engine.connect() as conn:
        loaded = db.run_sql(conn, "mart", "summarize_loaded_rows", params).mappings().one()
        features = db.run_sql(conn, "features", "count_snapshot_rows", params).mappings().one()
    out = [f"== churn job summary for snapshot {snapshot} =="]
    out.append(
        "rows loaded:  market_file {market_file}, market_money {market_money}, "
        "market_time {market_time}, money {money}".format(**loaded)
    )
    out.append(
        "features:     {customers} customers, {active_customers} active 3 months "
        "({active_label_churn} labelled «Снизилась», {active_label_stable} «Прежний уровень»)".format(**features)
    )
    return "\n".join(out)
