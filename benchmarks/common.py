"""Shared pieces of the benchmark suite: paths, filter sets, demo databases, timing and machine facts.

Every module here is run from the project root as ``python benchmarks/<name>.py`` (or imported by
``benchmarks/run.py``), so this module puts the project root on ``sys.path``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from critac_metrics.filters import Filters, fiscal_year_bounds  # noqa: E402

PYTHON = sys.executable
DEFAULT_CACHE = Path("/tmp/critac-bench-cache")

FY2024 = fiscal_year_bounds(2024)

# The filter sets every metric benchmark runs with. "typical" is a narrow dashboard view (one fiscal
# year, two agency types, one topic); "state" is one state over all time; "none" is the default view.
FILTER_SETS: dict[str, Filters] = {
    "typical": Filters(
        start=FY2024[0],
        end=FY2024[1],
        agency_types=("tribal", "campus"),
        topics=("De-escalation",),
    ),
    "state": Filters(states=("TX",)),
    "none": Filters(),
}
FILTER_LABELS = {
    "typical": "FY2024 + tribal,campus + De-escalation",
    "state": "state=TX, all time",
    "none": "no filters",
}


def describe_size(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


SCALED_FROM = 1_000_000  # sizes above this are built by repeating this demo store (scale_store.py)


def demo_db(cache_dir: Path, n: int, log=print) -> Path:
    """The demo database of ``n`` engagements, built once with the CLI and kept in ``cache_dir``
    (above 1M: the 1M demo store repeated, see scale_store.py)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"demo_{n}.duckdb"
    if path.exists():
        return path
    if n > SCALED_FROM:
        if n % SCALED_FROM:
            raise ValueError(f"sizes above {SCALED_FROM:,} must be multiples of it")
        source = demo_db(cache_dir, SCALED_FROM, log)
        log(f"  building {path} (the 1M demo store repeated {n // SCALED_FROM} times) ...")
        started = time.perf_counter()
        subprocess.run(
            [PYTHON, str(ROOT / "benchmarks" / "scale_store.py"), "--source", str(source),
             "--times", str(n // SCALED_FROM), "--db", str(path)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        log(f"  built in {time.perf_counter() - started:.1f} s")
        return path
    log(f"  building {path} (python -m critac_metrics demo --engagements {n}) ...")
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "-m", "critac_metrics", "demo", "--db", str(path), "--engagements", str(n)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    log(f"  built in {time.perf_counter() - started:.1f} s")
    return path


def median(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def ms(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:
        return "–"
    value = seconds * 1000
    if value >= 10_000:
        return f"{value / 1000:,.1f} s"
    if value >= 100:
        return f"{value:,.0f} ms"
    return f"{value:.1f} ms"


def verdict(value: float | None, target: float | None) -> str:
    if target is None:
        return ""
    if value is None or value != value:
        return "n/a"
    return "PASS" if value <= target else "FAIL"


# -- subprocess helpers ---------------------------------------------------------------------------


def run_json(command: list[str], env: dict | None = None, timeout: float | None = None) -> dict:
    """Run a benchmark helper that prints one JSON document as its last stdout line."""
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_v(command: list[str], env: dict | None = None, timeout: float | None = None) -> dict:
    """Run ``command`` under ``/usr/bin/time -v``: wall seconds, max RSS (MB), exit code, output."""
    wrapped = ["/usr/bin/time", "-v", *command] if Path("/usr/bin/time").exists() else command
    started = time.perf_counter()
    done = subprocess.run(
        wrapped,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - started
    rss_kb = None
    for line in done.stderr.splitlines():
        if "Maximum resident set size" in line:
            rss_kb = int(line.rsplit(":", 1)[1])
    return {
        "wall_s": wall,
        "max_rss_mb": rss_kb / 1024 if rss_kb else None,
        "returncode": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
    }


# -- the machine ----------------------------------------------------------------------------------


def machine_info() -> dict:
    info: dict[str, Any] = {"nproc": os.cpu_count(), "platform": platform.platform()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        info["loadavg_at_start"] = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        pass
    with contextlib.suppress(OSError, ValueError):
        info["nproc"] = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout)
    return info


def versions() -> dict:
    import duckdb
    import numpy
    import pandas
    import plotly
    import pyarrow
    import streamlit

    out = {
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "streamlit": streamlit.__version__,
        "plotly": plotly.__version__,
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
    }
    try:
        from importlib.metadata import version

        out["playwright"] = version("playwright")
    except Exception:  # noqa: BLE001 - optional
        pass
    try:
        chromium = subprocess.run(
            ["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=20
        ).stdout.strip()
        out["chromium"] = chromium
    except (OSError, subprocess.TimeoutExpired):
        pass
    return out


def now() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M")


def memory_bandwidth(mib: int = 512, repeats: int = 7) -> dict:
    """Single-thread memory bandwidth from ``np.copyto`` of a ``mib`` MiB float64 array.

    A copy reads and writes every byte, so bandwidth = 2 × size / time (bytes moved per second)."""
    import numpy as np

    n = mib * 1024 * 1024 // 8
    src = np.ones(n, dtype=np.float64)
    dst = np.empty_like(src)
    np.copyto(dst, src)  # touch every page first
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - started)
    moved = 2 * src.nbytes
    return {
        "array_mib": mib,
        "best_gb_s": moved / min(times) / 1e9,
        "median_gb_s": moved / median(times) / 1e9,
    }
