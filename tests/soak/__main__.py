"""``python -m tests.soak [--orders N] [--pos KIND ...] [--seconds S] [--seed N]`` (``make soak``):
the long soak, into each POS sandbox in turn; exits 1 on any violation."""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from tests.soak.soak import VARIANTS, soak


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak")
    parser.add_argument("--orders", type=int, default=10_000, help="orders per POS")
    parser.add_argument("--pos", nargs="+", choices=sorted(VARIANTS), default=sorted(VARIANTS))
    parser.add_argument(
        "--seconds", type=float, default=0.0, help="of faults and kills (default: orders / 8)"
    )
    parser.add_argument("--seed", type=int, default=random.randrange(1_000_000))
    args = parser.parse_args()
    seconds = args.seconds or max(20.0, args.orders / 8)
    violations = 0
    with tempfile.TemporaryDirectory(prefix="m2pos-soak-") as tmp:
        for kind in args.pos:
            outcome = soak(Path(tmp) / kind, kind, args.orders, seconds, args.seed)
            print(outcome.summary, flush=True)
            violations += len(outcome.report.problems)
    print(f"{violations} violations (seed {args.seed}; --seed replays the plan)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
