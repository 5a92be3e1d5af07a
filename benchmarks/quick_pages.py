"""A quick look at one number per page: a page's worth of metrics, warm, median of N rounds.

    python benchmarks/quick_pages.py [--sizes 10000,100000,1000000] [--rounds 5]

Uses the demo databases cached by run.py (built like run.py builds them if missing) and the same
per-page workloads (pages_workload.py). Prints one line per size and filter set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pages_workload  # noqa: E402
from common import DEFAULT_CACHE, FILTER_SETS, demo_db  # noqa: E402

from critac_metrics import db  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    print("| engagements | filters | " + " | ".join(pages_workload.PAGES) + " |")
    print("|---|---|" + "---|" * len(pages_workload.PAGES))
    for size in (int(s) for s in args.sizes.split(",")):
        con = db.connect(demo_db(args.cache_dir, size, log=lambda _: None))
        for name, filters in FILTER_SETS.items():
            cells = [
                f"{pages_workload.bench_page(con, page, filters, rounds=args.rounds)['total'] * 1000:,.0f} ms"
                for page in pages_workload.PAGES
            ]
            print(f"| {size:,} | {name} | " + " | ".join(cells) + " |", flush=True)
        con.close()


if __name__ == "__main__":
    main()
