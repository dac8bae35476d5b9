"""CLI: python -m etl.synth --customers N --seed S --out DIR [--start-id 215348] [--chunk-size 50000]
[--snapshots K] (K monthly snapshots of the same customers in DIR/snapshot-01 … DIR/snapshot-K)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from etl.synth.export import generate_snapshot
from etl.synth.history import HistorySpec, write_history
from etl.synth.model import REAL_FIRST_ID


def main(argv: list[str] | None = None) -> dict[str, int] | dict[str, dict[str, int]]:
    parser = argparse.ArgumentParser(
        prog="python -m etl.synth", description="Write a synthetic snapshot of the four CSV exports."
    )
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--start-id", type=int, default=REAL_FIRST_ID)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument(
        "--snapshots", type=int, default=None, help="write a history of this many monthly snapshots (no treatments)"
    )
    args = parser.parse_args(argv)
    if args.snapshots is not None:
        spec = HistorySpec(args.customers, seed=args.seed, start_id=args.start_id)
        counts = write_history(args.out, spec, args.snapshots)
    else:
        counts = generate_snapshot(args.out, args.customers, args.seed, args.start_id, args.chunk_size)
    print(json.dumps(counts, ensure_ascii=False))
    return counts


if __name__ == "__main__":
    main()
