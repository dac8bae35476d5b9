"""Glue between Airflow task context and the plain functions in etl/ and ml/."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Mapping


def snapshot_date(context: Mapping[str, Any]) -> dt.date:
    """The run's snapshot: the `snapshot_date` param if given, else the logical date.

    Asset-triggered runs have no logical date; they read the date the producer attached to the
    asset event, so the consumer scores exactly the snapshot that was just published.
    """
    params = context.get("params") or {}
    if params.get("snapshot_date"):
        return dt.date.fromisoformat(str(params["snapshot_date"]))
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            value = (event.extra or {}).get("snapshot_date")
            if value:
                return dt.date.fromisoformat(value)
    logical = context.get("logical_date")
    if logical is not None:
        return logical.date()
    raise ValueError("no snapshot date: pass params.snapshot_date or run with a logical date")


def data_dir_for(snapshot: dt.date) -> Path:
    """`DATA_DIR`, where a `{snapshot_date}` placeholder is replaced by the ISO date."""
    value = os.environ.get("DATA_DIR")
    if not value:
        raise RuntimeError("DATA_DIR is not set: point it at the folder with the four CSV exports")
    return Path(value.replace("{snapshot_date}", snapshot.isoformat()))
