"""Full server-side page runs with Streamlit's AppTest (run in its own process per database).

For each page: clear ``st.cache_data``/``st.cache_resource``, open a fresh ``AppTest`` on ``app.py``
(CRITAC_DB = the database), switch to the page and time

- cold: the first run (empty caches, new connection; modules already imported),
- warm: a rerun with nothing changed (every metric a cache hit: the cost of drawing),
- filter change: a rerun after changing the filters through the URL parameters (FY2024, tribal +
  campus, De-escalation; every metric a cache miss). AppTest does not see the sidebar widgets after
  the first run of an ``st.navigation`` app, so the URL is how the filters change here.

The very first run in the process (imports of plotly, pandas, ... included) is reported separately.
With --profile, the warm rerun and a second filter change (state=TX) are profiled (cProfile in the
script thread) and self time is summed by where the code lives.

    python benchmarks/apptest_pages.py --db PATH [--pages overview,topics] [--profile [--pstats DIR]]
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import sysconfig
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import FILTER_SETS, ROOT  # noqa: E402

sys.path.insert(0, str(ROOT))
from dashboard.pages import PAGES  # noqa: E402
from tests import app_charts  # noqa: E402

PAGE_FILES = {Path(page.path).stem: page.path for page in PAGES}  # the app's own page list
PROFILER: cProfile.Profile | None = None


def _install_thread_profiler() -> None:
    """AppTest runs the script in a new thread per run; profile inside that thread when asked."""
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    original = LocalScriptRunner._run_script_thread

    def patched(self):
        profiler = PROFILER
        if profiler is not None:
            profiler.enable()
        try:
            original(self)
        finally:
            if profiler is not None:
                profiler.disable()

    LocalScriptRunner._run_script_thread = patched  # type: ignore[method-assign]  # profiling hook


BUCKETS = (
    ("critac_metrics/charts/", "charts.py (building figures)"),
    ("critac_metrics/downloads.py", "downloads.py (CSV/Excel bytes)"),
    ("critac_metrics/metrics.py", "metrics.py (Python side)"),
    ("critac_metrics/queries/", "metrics.py (Python side)"),  # the modules behind metrics.py
    ("critac_metrics/", "critac_metrics (other)"),
    ("/dashboard/", "dashboard/ (app code)"),
    ("/views/", "views/ (app pages)"),
    ("/openpyxl/", "openpyxl"),
    ("/plotly/", "plotly (validate/serialise)"),
    ("/_plotly_utils/", "plotly (validate/serialise)"),
    ("streamlit/runtime/caching", "st.cache (hash/lookup/pickle)"),
    ("/streamlit/testing/", "AppTest harness"),
    ("/streamlit/", "streamlit (other)"),
    ("/pandas/", "pandas"),
    ("/numpy/", "numpy"),
    ("/duckdb", "duckdb"),
    ("/pyarrow/", "pyarrow"),
    ("/json/", "json"),
)


STDLIB = sysconfig.get_paths()["stdlib"]


def _bucket(filename: str, funcname: str) -> str:
    if "duckdb" in funcname.lower() or "DuckDBPy" in funcname:
        return "duckdb"
    for needle, name in BUCKETS:
        if needle in filename:
            return name
    if filename == "~":
        return "builtins (C)"
    if filename.startswith(STDLIB) and "site-packages" not in filename:
        return "python stdlib (copy, re, ...)"
    return "other"


def _summarise(profiler: cProfile.Profile, wall: float) -> dict:
    stats = pstats.Stats(profiler)
    buckets: dict[str, float] = defaultdict(float)
    project = []
    # pstats keeps its table in Stats.stats, which typeshed does not declare.
    for (filename, _line, func), (_, _, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        buckets[_bucket(filename, func)] += tottime
        if str(ROOT) in filename and "/benchmarks/" not in filename:
            rel = os.path.relpath(filename, ROOT)
            project.append((cumtime, f"{rel}:{func}"))
    project.sort(reverse=True)
    total = sum(buckets.values()) or 1.0
    return {
        "wall_s": wall,
        "profiled_s": total,
        "buckets": dict(sorted(((k, v) for k, v in buckets.items()), key=lambda kv: -kv[1])),
        "top_project_functions": [(name, cum) for cum, name in project[:12]],
    }


def _dump(profiler: cProfile.Profile, folder: Path | None, name: str) -> None:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(folder / f"{name}.pstats")


def _url_params(filters) -> dict[str, list[str]]:
    return filters.to_query_params()


ROUND_STATES = ("CA", "NY", "FL", "PA", "OH", "IL", "GA", "NC", "MI", "WA", "AZ", "MA", "VA")


def _selection(k: int):
    """The k-th extra filter change: FY2024 and one state (a new selection each round)."""
    return FILTER_SETS["typical"].replace(
        agency_types=(), topics=(), states=(ROUND_STATES[k % len(ROUND_STATES)],)
    )


def main() -> None:
    global PROFILER
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--pages", default=",".join(PAGE_FILES))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-skip", default="", help="pages not to profile (comma list)")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--filter-rounds",
        type=int,
        default=0,
        help="also time this many more filter changes per page, each a new selection",
    )
    parser.add_argument("--app-root", type=Path, default=ROOT, help="serve another project copy")
    parser.add_argument(
        "--pstats",
        type=Path,
        help="with --profile, also write PAGE-{warm,filter_change}.pstats here",
    )
    args = parser.parse_args()
    os.environ["CRITAC_DB"] = args.db
    root = args.app_root.resolve()
    os.chdir(root)
    if root != ROOT:  # the copy's dashboard/ and critac_metrics/ come first
        sys.path.insert(0, str(root))
        for name in [m for m in sys.modules if m.split(".")[0] in ("dashboard", "critac_metrics")]:
            del sys.modules[name]

    started = time.perf_counter()
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import_s = time.perf_counter() - started
    _install_thread_profiler()
    app = str(root / "app.py")

    def fresh(page: str) -> AppTest:
        at = AppTest.from_file(app, default_timeout=args.timeout)
        if page != "overview":
            at.switch_page(PAGE_FILES[page])
        return at

    def timed_run(at: AppTest) -> float:
        t0 = time.perf_counter()
        at.run()
        return time.perf_counter() - t0

    # The first run in this process: imports of the app's modules, plotly, ... included.
    at = fresh("overview")
    first_run_s = timed_run(at)

    out: dict[str, Any] = {
        "import_streamlit_s": import_s,
        "first_run_in_process_s": first_run_s,
        "pages": {},
    }
    skip_profile = set(filter(None, args.profile_skip.split(",")))
    for page in args.pages.split(","):
        st.cache_data.clear()
        st.cache_resource.clear()
        at = fresh(page)
        row: dict[str, Any] = {"cold_s": timed_run(at)}
        row["exceptions"] = [str(e.value)[:300] for e in at.exception]
        row["title"] = at.title[0].value if len(at.title) else None
        row["charts"] = len(app_charts.charts(at))
        row["metrics_shown"] = len(at.metric)
        row["warm_s"] = timed_run(at)
        for key, value in _url_params(FILTER_SETS["typical"]).items():
            at.query_params[key] = value
        row["filter_change_s"] = timed_run(at)
        row["filter_change_caption"] = next(
            (c.value for c in at.caption if c.value.startswith(("Engagement", "Requests"))), None
        )
        row["exceptions"] += [str(e.value)[:300] for e in at.exception]
        more = []
        for k in range(args.filter_rounds):
            at.query_params.clear()
            for key, value in _url_params(_selection(k)).items():
                at.query_params[key] = value
            more.append(timed_run(at))
        if more:
            row["filter_change_rounds_s"] = more
            row["exceptions"] += [str(e.value)[:300] for e in at.exception]
        if args.profile and page not in skip_profile:
            profiles = {}
            PROFILER = cProfile.Profile()
            wall = timed_run(at)
            profiles["warm"] = _summarise(PROFILER, wall)
            _dump(PROFILER, args.pstats, f"{page}-warm")
            at.query_params.clear()
            for key, value in _url_params(FILTER_SETS["state"]).items():
                at.query_params[key] = value
            PROFILER = cProfile.Profile()
            wall = timed_run(at)
            profiles["filter_change"] = _summarise(PROFILER, wall)
            _dump(PROFILER, args.pstats, f"{page}-filter_change")
            PROFILER = None
            row["profile"] = profiles
        out["pages"][page] = row
        print(
            f"  apptest {page}: cold {row['cold_s']:.2f} s, warm {row['warm_s']:.2f} s, "
            f"filter change {row['filter_change_s']:.2f} s",
            file=sys.stderr,
            flush=True,
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
