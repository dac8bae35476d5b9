"""CLI: python -m etl.synth --customers N --seed S --out DIR [--start-id 215348] [--chunk-size 50000]"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from etl.synth.export import generate_snapshot
from etl.synth.model import REAL_FIRST_ID


def main(argv: list[str] | None = None) -> dict[str, int]:
    parser = argparse.ArgumentParser(prog="python -m etl.synth", description="Write a synthetic snapshot of the four CSV exports.")
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--start-id", type=int, default=REAL_FIRST_ID)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    args = parser.parse_args(argv)
    counts = generate_snapshot(args.out, args.customers, args.seed, args.start_id, args.chunk_size)
    print(json.dumps(counts, ensure_ascii=False))
    return counts




if __name__ == "__main__":
    main()
