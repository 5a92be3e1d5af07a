"""Where a real server's rerun goes: every thread of ``streamlit run app.py``, sampled.

    python benchmarks/profile_server.py --db PATH [--runs 20] [--page overview] [--top 40]

Starts the app in a child process under a sampling profiler (``--serve``: a thread that reads
``sys._current_frames()`` every ``--interval-ms`` and counts each thread's stack; no tracing, so
the script's own speed barely changes; but a sample can only be taken when the GIL is free,
so C code that releases it, DuckDB's queries, is over-represented), drives ``--runs`` filter changes (each a selection not
asked for before) through the websocket client (``st_protocol.Viewer``), then prints, per thread
kind (the script runner, the event loop, others), the busy samples: the leaf functions (self time)
and the functions on the stack (inclusive time). A sample whose leaf is a wait (``select``,
``Condition.wait``, ...) is idle and not counted. AppTest runs only the script thread; the event
loop's share (serialising the messages, writing the websocket) is what a real server adds.

Each script run is also profiled with cProfile (deterministic; about doubles the run's time), kept
as a ``.pstats`` file beside ``--json``. Also prints the server's CPU per run from /proc (with the sampler running; compare with
viewers_load.py for the figure without it).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType

IDLE_LEAVES = {
    "wait",
    "select",
    "poll",
    "_worker",
    "accept",
    "sleep",
    "epoll",
    "_wait_for_tstate_lock",
    "get",
    "read",
    "recv",
    "run_forever",
    "_run_once",
    "wait_for",
}


def _thread_kind(name: str) -> str:
    if name == "MainThread":
        return "event loop (MainThread)"
    if name.startswith("ScriptRunner"):
        return "script runner"
    return "other: " + name.rstrip("0123456789_-")


class Sampler(threading.Thread):
    def __init__(self, interval: float, out: Path) -> None:
        super().__init__(name="critac-sampler", daemon=True)
        self.interval = interval
        self.out = out
        self.running = True
        self.leaf: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.inclusive: dict[str, collections.Counter] = collections.defaultdict(
            collections.Counter
        )
        self.busy: collections.Counter = collections.Counter()
        self.total: collections.Counter = collections.Counter()

    def run(self) -> None:
        me = threading.get_ident()
        while self.running:
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                kind = _thread_kind(names.get(ident, "?"))
                self.total[kind] += 1
                code = frame.f_code
                if code.co_name in IDLE_LEAVES and "threading" in code.co_filename:
                    continue
                if code.co_name in IDLE_LEAVES and (
                    "selectors" in code.co_filename or "asyncio" in code.co_filename
                ):
                    continue
                self.busy[kind] += 1
                self.leaf[kind][f"{_short(code.co_filename)}:{code.co_name}:{frame.f_lineno}"] += 1
                seen = set()
                f: FrameType | None = frame
                while f is not None:
                    key = f"{_short(f.f_code.co_filename)}:{f.f_code.co_name}"
                    if key not in seen:
                        seen.add(key)
                        self.inclusive[kind][key] += 1
                    f = f.f_back
            time.sleep(self.interval)

    def dump(self) -> None:
        self.out.write_text(
            json.dumps(
                {
                    "interval_s": self.interval,
                    "total": self.total,
                    "busy": self.busy,
                    "leaf": {k: v.most_common(80) for k, v in self.leaf.items()},
                    "inclusive": {k: v.most_common(200) for k, v in self.inclusive.items()},
                }
            )
        )


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1] if "/" in path else path


def serve(out: Path, interval: float, argv: list[str]) -> None:
    """Run streamlit in this process: the sampler over every thread, and cProfile plus the thread's
    CPU time around each script run (``ScriptRunner._run_script``); written to ``out`` on exit."""
    import atexit
    import cProfile

    from streamlit.runtime.scriptrunner import script_runner

    sampler = Sampler(interval, out)
    profile = cProfile.Profile()
    script_cpu: list[float] = []
    lock = threading.Lock()
    original = script_runner.ScriptRunner._run_script

    def profiled(self, rerun_data):
        cpu0 = time.thread_time()
        with lock:
            profile.enable()
            try:
                return original(self, rerun_data)
            finally:
                profile.disable()
                script_cpu.append(time.thread_time() - cpu0)

    script_runner.ScriptRunner._run_script = profiled  # type: ignore[method-assign]

    def dump() -> None:
        sampler.dump()
        data = json.loads(out.read_text())
        data["script_cpu_s"] = script_cpu
        out.write_text(json.dumps(data))
        profile.dump_stats(str(out) + ".pstats")

    sampler.start()
    atexit.register(dump)
    from streamlit.web import cli

    sys.argv = ["streamlit", *argv]
    try:
        cli.main()
    finally:
        sampler.running = False


def task_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each live thread of ``pid``."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def drive(args) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import subprocess

    from common import ROOT
    from st_protocol import Viewer
    from viewers_load import cpu_seconds, selections, topic_names

    sys.path.insert(0, str(ROOT))
    from tests.browser_support import free_port, stop, wait_healthy

    root = args.app_root.resolve()
    every = selections(topic_names(args.db), seed=args.seed)
    pool = itertools.cycle(every[: args.popular]) if args.popular else iter(every)
    with tempfile.TemporaryDirectory(prefix="critac-profile-") as tmp:
        home = Path(tmp)
        log = home / "streamlit.log"
        samples = home / "samples.json"
        port = free_port()
        env = {**os.environ, "CRITAC_DB": str(args.db), "HOME": str(home), "PYTHONUNBUFFERED": "1"}
        streamlit_args = ["run", "app.py", "--server.headless", "true", "--server.port", str(port),
                          "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                          "--server.fileWatcherType", "none"]  # fmt: skip
        if args.profile:
            command = [sys.executable, str(Path(__file__).resolve()), "--serve", str(samples),
                       "--interval-ms", str(args.interval_ms), "--", *streamlit_args]  # fmt: skip
        else:
            command = [sys.executable, "-m", "streamlit", *streamlit_args]
        with log.open("wb") as output:
            server = subprocess.Popen(command, cwd=root, env=env, stdout=output,
                                      stderr=subprocess.STDOUT)  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        result: dict = {"page": args.page or "overview"}
        try:
            wait_healthy(server, url, log, timeout=90)

            async def go() -> None:
                async with Viewer(url) as viewer:
                    first = await viewer.rerun(next(pool), args.page)
                    result["first_s"] = first.seconds
                    for _ in range(args.warm):
                        await viewer.rerun(next(pool), args.page)
                    cpu0, tasks0 = cpu_seconds(server.pid), task_cpu(server.pid)
                    seconds, sizes = [], []
                    for _ in range(args.runs):
                        run = await viewer.rerun(next(pool), args.page)
                        seconds.append(run.seconds)
                        sizes.append(run.bytes)
                        result.setdefault("sizes_by_kind", run.sizes_by_kind)
                    cpu = cpu_seconds(server.pid) - cpu0
                    tasks1 = task_cpu(server.pid)
                    main_cpu = tasks1.get(server.pid, 0) - tasks0.get(server.pid, 0)
                    kept = sum(tasks1[t] - tasks0[t] for t in tasks1 if t in tasks0)
                    result.update(
                        main_thread_cpu_ms_per_run=1000 * main_cpu / args.runs,
                        other_live_threads_cpu_ms_per_run=1000 * (kept - main_cpu) / args.runs,
                        new_or_ended_threads_cpu_ms_per_run=1000 * (cpu - kept) / args.runs,
                    )
                    seconds.sort()
                    result.update(
                        runs=args.runs,
                        median_s=seconds[len(seconds) // 2],
                        cpu_ms_per_run=1000 * cpu / args.runs,
                        bytes_median=sorted(sizes)[len(sizes) // 2],
                    )

            asyncio.run(go())
        finally:
            stop(server)
        if args.profile and samples.exists():
            result["samples"] = json.loads(samples.read_text())
            script = result["samples"].pop("script_cpu_s", [])[-args.runs :]
            result["script_thread_cpu_ms_median"] = 1000 * sorted(script)[len(script) // 2]
            import pstats

            stats = pstats.Stats(str(samples) + ".pstats")
            keep = Path(args.json or "/tmp/critac-profile").with_suffix(".pstats")
            stats.dump_stats(str(keep))
            result["pstats"] = str(keep)
    return result


def report(result: dict, top: int) -> None:
    print({k: v for k, v in result.items() if k != "samples"})
    samples = result.get("samples")
    if not samples:
        return
    for kind, busy in sorted(samples["busy"].items(), key=lambda kv: -kv[1]):
        print(f"\n== {kind}: {busy} busy samples of {samples['total'][kind]}")
        print("-- self (leaf):")
        for name, n in samples["leaf"].get(kind, [])[:top]:
            print(f"  {n:6d} {100 * n / busy:5.1f}%  {name}")
        print("-- inclusive:")
        for name, n in samples["inclusive"].get(kind, [])[: top * 2]:
            print(f"  {n:6d} {100 * n / busy:5.1f}%  {name}")


def main() -> None:
    if "--serve" in sys.argv:
        i = sys.argv.index("--serve")
        out = Path(sys.argv[i + 1])
        interval = float(sys.argv[sys.argv.index("--interval-ms") + 1]) / 1000
        serve(out, interval, sys.argv[sys.argv.index("--") + 1 :])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--page", default="", help="URL path name ('' = Overview)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warm", type=int, default=3)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--popular", type=int, default=0,
                        help="cycle through this many selections (0: each run a new one)")  # fmt: skip
    parser.add_argument("--interval-ms", type=float, default=2.0)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--app-root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    result = drive(args)
    if args.json:
        args.json.write_text(json.dumps(result))
    report(result, args.top)


if __name__ == "__main__":
    main()
