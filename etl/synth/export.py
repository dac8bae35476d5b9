"""Writing drawn customers in exactly the export's byte format: headers from
`etl.warehouse.sources`, the export's number styles, row orders and typos."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from etl.synth.model import (
    ALLOW_VALUES,
    CATEGORIES,
    LABELS,
    MONEY_ORDERS,
    MONEY_PERIODS,
    REAL_FIRST_ID,
    SERVICE_TYPES,
    TIME_PERIODS,
    Block,
    iter_chunks,
)
from etl.warehouse.sources import SOURCES

FILES = tuple(source.file_name for source in SOURCES)
_HEADERS = {source.file_name: source.delimiter.join(c.header for c in source.columns) for source in SOURCES}

_PROMO_TEXT = [repr(h / 100) for h in range(100)]  # 0.0, 0.07, 0.3, 0.75
_PROFIT_FRACTION = ["" if r == 0 else "," + (f"{r // 10}" if r % 10 == 0 else f"{r:02d}") for r in range(100)]


def _tenths_text(values: np.ndarray) -> list[str]:
    """Tenths → '3293.1', '0.0', '4472.0' (Python float repr of a one-decimal value)."""
    whole, frac = np.divmod(values, 10)
    return [f"{w}.{f}" for w, f in zip(whole.tolist(), frac.tolist())]


def _market_file_text(ids: list[int], b: Block) -> str:
    six_w, six_f = np.divmod(b["marketing_6m_tenths"], 10)
    rows = zip(
        ids,
        b["label"].tolist(),
        b["service"].tolist(),
        b["allow"].tolist(),
        six_w.tolist(),
        six_f.tolist(),
        b["marketing_month"].tolist(),
        b["tenure"].tolist(),
        b["promo_hundredths"].tolist(),
        b["category"].tolist(),
        b["categories_per_visit"].tolist(),
        b["unpaid"].tolist(),
        b["errors"].tolist(),
        b["pages"].tolist(),
    )
    return "".join(
        f"{i},{LABELS[y]},{SERVICE_TYPES[s]},{ALLOW_VALUES[a]},{sw}.{sf},{mm},{t},{_PROMO_TEXT[p]},"
        f"{CATEGORIES[c]},{cv},{u},{e},{pg}\n"
        for i, y, s, a, sw, sf, mm, t, p, c, cv, u, e, pg in rows
    )


def _market_money_text(ids: list[int], b: Block) -> str:
    values = np.stack([b["revenue_prev2_t"], b["revenue_prev_t"], b["revenue_cur_t"]], axis=1)
    order = np.asarray(MONEY_ORDERS)[b["money_order"]]  # (n, 3) period index per row
    ordered = np.take_along_axis(values, order, axis=1).ravel()
    texts = _tenths_text(ordered)
    periods = [MONEY_PERIODS[p] for p in order.ravel().tolist()]
    ids3 = [i for i in ids for _ in range(3)]
    return "".join(f"{i},{p},{v}\n" for i, p, v in zip(ids3, periods, texts))


def _market_time_text(ids: list[int], b: Block) -> str:
    cur, prev = TIME_PERIODS
    parts = []
    for i, c, p, prev_first in zip(
        ids, b["minutes_cur"].tolist(), b["minutes_prev"].tolist(), b["time_prev_first"].tolist()
    ):
        parts.append(f"{i},{prev},{p}\n{i},{cur},{c}\n" if prev_first else f"{i},{cur},{c}\n{i},{prev},{p}\n")
    return "".join(parts)


def _money_text(ids: list[int], b: Block) -> str:
    whole, frac = np.divmod(b["profit_h"], 100)
    return "".join(f"{i};{w}{_PROFIT_FRACTION[f]}\n" for i, w, f in zip(ids, whole.tolist(), frac.tolist()))


_WRITERS = {  # file: (header, render, rows per customer)
    "market_file.csv": (_HEADERS["market_file.csv"], _market_file_text, 1),
    "market_money.csv": (_HEADERS["market_money.csv"], _market_money_text, 3),
    "market_time.csv": (_HEADERS["market_time.csv"], _market_time_text, 2),
    "money.csv": (_HEADERS["money.csv"], _money_text, 1),
}


def generate_snapshot(
    out_dir: Path,
    customers: int,
    seed: int = 0,
    start_id: int = REAL_FIRST_ID,
    chunk_size: int = 50_000,
) -> dict[str, int]:
    """Write the four CSVs of a `customers`-strong snapshot into `out_dir`; rows written per file.

    UTF-8 without BOM, LF endings, final newline; ids start_id..start_id+customers-1.
    """
    if customers < 1:
        raise ValueError("customers must be >= 1")
    return write_blocks(out_dir, iter_chunks(customers, seed, chunk_size), start_id)


def write_blocks(out_dir: Path, blocks: Iterable[Block], start_id: int) -> dict[str, int]:
    """Write drawn customers (consecutive ids from `start_id`) as the four CSVs; rows per file.

    Shared by one snapshot and a history of them, so both have the same bytes conventions and
    the same atomicity. `blocks` may be lazy: an error while drawing leaves no files behind.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(FILES, 0)
    # written as *.part and renamed at the end: an interrupted run never leaves files that look whole
    parts = {name: out_dir / f"{name}.part" for name in FILES}
    handles = {name: open(parts[name], "wb") for name in FILES}  # binary: LF only, no BOM
    try:
        for name, (header, _, _) in _WRITERS.items():
            handles[name].write((header + "\n").encode("utf-8"))
        next_id = start_id
        for chunk in blocks:
            n = chunk["pages"].size
            ids = list(range(next_id, next_id + n))
            next_id += n
            for name, (_, render, rows_per_id) in _WRITERS.items():
                handles[name].write(render(ids, chunk).encode("utf-8"))
                counts[name] += n * rows_per_id
    except BaseException:
        for name in FILES:
            handles[name].close()
            parts[name].unlink(missing_ok=True)
        raise
    for name in FILES:  # money.csv last: its presence means the snapshot is complete
        handles[name].close()
        parts[name].replace(out_dir / name)
    return counts
