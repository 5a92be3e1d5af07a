"""Import time and peak memory: ``python -m critac_metrics ingest`` from CSV and from Parquet.

The files are the demo generator's frames (``critac_metrics.demo.generate(n)``) written once per size
into the cache directory as agencies / engagements / survey_responses .csv and .parquet (CSV written
the way ``demo.write_demo_files`` writes it; Parquet with pyarrow's defaults). Each import runs as a
subprocess into a new database file under ``/usr/bin/time -v`` (wall time and max RSS).

    python benchmarks/imports.py --cache-dir DIR --sizes 10000,100000 [--formats csv,parquet]
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PYTHON, time_v  # noqa: E402

TABLES = ("agencies", "engagements", "survey_responses")


def prepare(n: int, folder: Path) -> dict:
    """Write the generated frames as CSV and Parquet (once); return file sizes and row counts."""
    done = folder / "done.json"
    if done.exists():
        return json.loads(done.read_text())
    from critac_metrics import demo

    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    frames = demo.generate(n)
    info: dict[str, Any] = {"generate_s": time.perf_counter() - started, "rows": {}, "bytes": {}}
    for name in TABLES:
        frame = frames[name]
        info["rows"][name] = len(frame)
        frame.to_csv(
            folder / f"{name}.csv",
            index=False,
            encoding="utf-8",
            lineterminator="\n",
            date_format="%Y-%m-%d",
            na_rep="",
        )
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    for fmt in ("csv", "parquet"):
        info["bytes"][fmt] = sum((folder / f"{t}.{fmt}").stat().st_size for t in TABLES)
    done.write_text(json.dumps(info))
    return info


def measure(folder: Path, fmt: str, timeout: float = 1800) -> dict:
    with tempfile.TemporaryDirectory(prefix="critac-bench-import-") as tmp:
        target = Path(tmp) / "new.duckdb"
        files = [str(folder / f"{t}.{fmt}") for t in TABLES]
        result = time_v(
            [PYTHON, "-m", "critac_metrics", "ingest", "--db", str(target), *files],
            timeout=timeout,
        )
        result["db_bytes"] = target.stat().st_size if target.exists() else None
        shutil.rmtree(tmp, ignore_errors=True)
    ok = result["returncode"] == 0
    return {
        "ok": ok,
        "wall_s": result["wall_s"],
        "max_rss_mb": result["max_rss_mb"],
        "db_bytes": result["db_bytes"],
        "message": (result["stdout"].strip().splitlines() or [""])[0][:200]
        if ok
        else result["stderr"][-500:],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache-dir", required=True, type=Path)
    parser.add_argument("--sizes", required=True)
    parser.add_argument("--formats", default="csv,parquet")
    args = parser.parse_args()
    out = {}
    for n in (int(s) for s in args.sizes.split(",")):
        folder = args.cache_dir / f"files_{n}"
        info = prepare(n, folder)
        row = {"files": info}
        for fmt in args.formats.split(","):
            row[fmt] = measure(folder, fmt)
            print(
                f"  import {n:,} from {fmt}: {row[fmt]['wall_s']:.1f} s, "
                f"max RSS {row[fmt]['max_rss_mb'] or 0:.0f} MB, ok={row[fmt]['ok']}",
                file=sys.stderr,
                flush=True,
            )
        out[str(n)] = row
    print(json.dumps(out))


if __name__ == "__main__":
    main()
