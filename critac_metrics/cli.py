"""Command line: ``python -m critac_metrics {ingest,validate,demo,summary,series,report,docs,contract,rollback}``."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import sys
from pathlib import Path
from typing import TextIO

import duckdb

from . import db, dimensions, metrics, registry
from .filters import DATE_BASES, LIST_FILTERS, Filters, parse_date
from .ingest import ImportReport, ingest_files, validate_files
from .store import build_demo_database, topic_names
from .text import for_terminal


def _date(text: str) -> dt.date:
    day, problem = parse_date(text)  # the same rule as a date in a URL
    if day is None:
        raise argparse.ArgumentTypeError(f"{problem}: {text!r}")
    return day


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, help="DuckDB database file")
    parser.add_argument("--start", type=_date, help="first date (inclusive)")
    parser.add_argument("--end", type=_date, help="last date (inclusive)")
    parser.add_argument(
        "--date-basis",
        choices=DATE_BASES,
        default="requested",
        help="which date --start and --end filter on: when the request was made (default) or "
        "when it was completed (only completed engagements then)",
    )
    for spec in LIST_FILTERS:
        flag = "--" + spec.param.replace("_", "-")
        parser.add_argument(
            flag,
            dest=spec.field,
            action="append",
            default=[],
            metavar=spec.param.upper(),
            help=f"{dimensions.label(spec.param)} (repeat to select several)",
        )


def _filters(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Filters:
    """Build Filters from flags, with the same validation (and notices) as URL parameters."""
    params: dict[str, list[str]] = {}
    if args.start:
        params["start"] = [args.start.isoformat()]
    if args.end:
        params["end"] = [args.end.isoformat()]
    params["date_basis"] = [args.date_basis]
    for spec in LIST_FILTERS:
        params[spec.param] = getattr(args, spec.field)
    filters, notices = Filters.from_query_params(params, topic_names(con))
    if notices:  # the app ignores bad URL values; on the command line they are an error
        problems = [n.removeprefix("Ignored ").rstrip(".") for n in notices]
        raise SystemExit("error: invalid filter: " + "; ".join(problems))
    return filters


def _add_min_n(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--min-n",
        type=int,
        default=metrics.DEFAULT_MIN_N,
        help="suppress outcome figures built on fewer respondents",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m critac_metrics", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="validate files and load them (all or nothing)")
    p.add_argument("--db", required=True, type=Path)
    p.add_argument("files", nargs="+", type=Path)

    p = sub.add_parser("validate", help="check files against the data contract, load nothing")
    p.add_argument("--db", type=Path, help="check references against this database too")
    p.add_argument("files", nargs="+", type=Path)

    p = sub.add_parser("demo", help="build the synthetic demo database")
    p.add_argument("--db", required=True, type=Path)
    p.add_argument(
        "--engagements", type=int, help="number of engagement records (default: the shipped size)"
    )
    p.add_argument("--seed", type=int, help="random seed (default: the shipped seed)")

    p = sub.add_parser("summary", help="headline figures for a selection")
    _add_filters(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--compare",
        action="store_true",
        help="with --json, add the KPI changes against the previous period ('comparison')",
    )
    _add_min_n(p)

    p = sub.add_parser("series", help="requests, engagements and completed per period")
    _add_filters(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--grain", choices=metrics.GRAINS, default="month")

    p = sub.add_parser("report", help="export a PowerPoint deck or a self-contained HTML report")
    _add_filters(p)
    p.add_argument("--format", choices=("pptx", "html"), default="html", help="default: html")
    p.add_argument("--json", action="store_true", help="print the output path as JSON")
    p.add_argument("--out", type=Path, help="output file (default: a name from the filters)")
    p.add_argument(
        "--section",
        dest="sections",
        action="append",
        default=[],
        metavar="NAME",
        help="overview, trends, topics, reach, outcomes or pipeline; repeat for several "
        "(default: all)",
    )
    _add_min_n(p)

    p = sub.add_parser("docs", help="print docs/metrics.md generated from the metric registry")

    p = sub.add_parser("contract", help="print docs/data-contract.md generated from the schema")

    p = sub.add_parser(
        "rollback",
        help="publish a kept database version again (default: the one before the published one)",
    )
    p.add_argument("--db", required=True, type=Path)
    p.add_argument(
        "--to",
        metavar="VERSION",
        help="the kept version to restore, by name (see --list); without it, the version before"
        " the published one when the command starts, and nothing is done if an import publishes"
        " meanwhile",
    )
    p.add_argument("--list", action="store_true", help="list the kept versions, change nothing")
    p.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = globals()[f"_cmd_{args.command}"]
    # Imported text (topics, names, file and sheet names in messages) is printed with its control
    # characters escaped, so none can clear the screen or rewrite what the user sees. (JSON output
    # is unchanged: json.dumps already escapes them.)
    out, err = _Escaped(sys.stdout), _Escaped(sys.stderr)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return handler(args)
    except duckdb.Error as exc:  # e.g. --db names a file that is not a DuckDB database
        where = getattr(args, "db", None) or "the database"
        if args.command in READERS and db.is_unreadable(exc):  # a damaged block found by a query
            print(_unreadable(where, exc), file=err)
            return 1
        print(f"error: {where}: {str(exc).strip().splitlines()[0]}", file=err)
        return 1
    except SystemExit as exc:  # an error message (e.g. an invalid filter): escaped like the rest
        if not isinstance(exc.code, str):
            raise
        print(exc.code, file=err)
        return 1
    except db.WriteError as exc:  # a read-only folder, a full disk: nothing was changed
        print(f"error: {exc}", file=err)
        return 1
    # BrokenPipeError before OSError, its base class (after it, this was never reached).
    except BrokenPipeError:  # `summary | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # any other file the system refused (e.g. TMPDIR)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or type(exc).__name__}{where}", file=err)
        return 1


class _Escaped(io.TextIOBase):
    """A text stream that writes to ``stream`` with control characters escaped."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(for_terminal(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def fileno(self) -> int:
        return self.stream.fileno()

    def isatty(self) -> bool:
        return self.stream.isatty()

    @property
    def encoding(self) -> str | None:  # type: ignore[override]  # read-only, as on a real stream
        return getattr(self.stream, "encoding", None)


def _print_report(report: ImportReport) -> None:
    for line in report.summary_lines():
        print(line, file=sys.stderr if not report.ok else sys.stdout)


def _cmd_ingest(args: argparse.Namespace) -> int:
    report = ingest_files(args.db, args.files, source="cli")
    _print_report(report)
    return 0 if report.ok else 1


def _cmd_validate(args: argparse.Namespace) -> int:
    report = validate_files(args.files, args.db)
    _print_report(report)
    return 0 if report.ok else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import demo

    engagements = demo.DEFAULT_ENGAGEMENTS if args.engagements is None else args.engagements
    if engagements < 1:
        print("error: --engagements must be at least 1", file=sys.stderr)
        return 2
    seed = demo.DEFAULT_SEED if args.seed is None else args.seed
    report = build_demo_database(args.db, engagements, seed)
    _print_report(report)
    return 0 if report.ok else 1


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise SystemExit(f"error: no database at {path}")
    try:
        db.upgrade(path)  # a store built by older code gets its derived tables rebuilt once
        return db.connect(path, read_only=True)
    except OSError as exc:
        raise SystemExit(
            f"error: {path} was built by an older version and its summary tables must be rebuilt,"
            f" but it cannot be written here ({exc.strerror or exc})"
        ) from None
    except duckdb.Error as exc:  # damaged, not a database, a folder, not readable
        raise SystemExit(_unreadable(path, exc)) from None


READERS = ("summary", "series", "report")  # the commands that only read the database


def _unreadable(path: Path | str, exc: duckdb.Error) -> str:
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return (
        f"error: {path} can't be read as a dashboard database ({reason}); restore the previous"
        f" version with `python -m critac_metrics rollback --db {path}` or import the data again"
    )


def _cmd_summary(args: argparse.Namespace) -> int:
    con = _open(args.db)
    filters = _filters(args, con)
    result = metrics.summary(con, filters, min_n=args.min_n)
    changes = metrics.comparison_summary(con, filters, min_n=args.min_n)
    if args.json:
        if args.compare:
            result["comparison"] = changes
        print(json.dumps(result, indent=2))
        return 0
    print(filters.describe())
    for name in (
        "requests",
        "completed",
        "engagements",
        "completion_rate",
        "agencies_served",
        "states_reached",
        "survey_responses",
        "responded_engagements",
        "response_rate",
    ):
        print(f"  {registry.label(name):<32} {registry.METRICS[name].format(result[name]):>10}")
    rates = result["response_rates"]
    for name in ("survey_respondents", "post_response_rate", "follow_up_response_rate"):
        print(f"  {registry.label(name):<32} {registry.METRICS[name].format(rates[name]):>10}")
    if rates["late_responses"]:
        print(
            f"  {rates['late_responses']:,} survey responses were submitted after the last "
            f"engagement date ({rates['data_through']}); they are counted with their engagements."
        )
    for key, title in (("outcomes", "Outcomes (post)"), ("follow_up_outcomes", "Follow-up")):
        print(f"{title}: item, n (respondents), % positive, mean")
        for item, fig in result[key].items():
            pct = (
                "suppressed" if fig["suppressed"] else registry.format_value(fig["top2_pct"], "pct")
            )
            mean = "" if fig["suppressed"] else registry.format_value(fig["mean"], "mean")
            name = dimensions.value_label("item", item)
            print(f"  {name:<20} {fig['n']:>7,} {pct:>12} {mean:>6}")
    print("Engagements by topic:")
    for topic, count in result["by_topic"].items():
        print(f"  {topic:<48} {count:>7,}")
    print("Engagements by agency type:")
    for kind, count in result["by_agency_type"].items():
        print(f"  {dimensions.value_label('agency_type', kind):<48} {count:>7,}")
    print(changes["sentence"])
    if changes["previous"]:
        print(f"Change, {changes['current']} vs {changes['previous']}: now, before, change")
        for name, fig in changes["figures"].items():
            fmt = registry.METRICS[name].format
            print(
                f"  {registry.label(name):<32} {fmt(fig['compared']):>10} "
                f"{fmt(fig['previous']):>10} {fig['change_text'] or '–':>10}"
            )
    return 0


def _cmd_series(args: argparse.Namespace) -> int:
    con = _open(args.db)
    frame = metrics.volume_series(con, _filters(args, con), args.grain)
    records = [
        {
            "period": r.period,
            "requests": int(r.requests),
            "engagements": int(r.engagements),
            "completed": int(r.completed),
        }
        for r in frame.itertuples()
    ]
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        print(f"{'period':<10} {'requests':>9} {'engagements':>12} {'completed':>10}")
        for r in records:
            print(
                f"{r['period']:<10} {r['requests']:>9,} {r['engagements']:>12,} {r['completed']:>10,}"
            )
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from . import render, report  # plotly and python-pptx load only for this command

    if args.format == "pptx":
        render.warm_up()  # Chromium starts while the figures are queried
    con = _open(args.db)
    filters = _filters(args, con)
    try:
        path = report.write(con, filters, args.format, args.out, args.sections, args.min_n)
    except report.ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"path": str(path), "format": args.format}) if args.json else path)
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    sys.stdout.write(registry.metrics_markdown())
    return 0


def _cmd_contract(args: argparse.Namespace) -> int:
    from . import schema

    sys.stdout.write(schema.contract_markdown())
    return 0


def _cmd_rollback(args: argparse.Namespace) -> int:
    if args.list:
        return _list_versions(args)
    if args.to is not None and args.to.strip() == "":
        print("error: --to needs a version name (see rollback --list)", file=sys.stderr)
        return 2
    try:
        done = db.rollback(args.db, to=args.to)
    except (db.RollbackError, db.WriteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        result = {
            "db": str(args.db),
            "from": done.replaced.as_json(),
            "to": done.restored.as_json(),
            "dropped": list(done.dropped),
        }
        print(json.dumps(result, indent=2, default=str))
        return 0
    print(f"Restored {args.db} to version {done.restored.name}.")
    print(f"  from: {done.replaced.describe()}")
    print(f"  to:   {done.restored.describe()}")
    if done.dropped:
        print(f"  newer kept versions removed: {', '.join(done.dropped)}")
    return 0


def _list_versions(args: argparse.Namespace) -> int:
    if not args.db.exists() and not db.list_versions(args.db):
        print(f"error: no database at {args.db}", file=sys.stderr)
        return 1
    kept = db.versions(args.db)
    published = db.describe_version(args.db)
    if args.json:
        result = {"published": published.as_json(), "kept": [v.as_json() for v in kept]}
        print(json.dumps(result, indent=2, default=str))
        return 0
    print(f"{'VERSION':<24} CONTENTS")
    print(f"{'(published)':<24} {published.describe()}")
    for version in reversed(kept):  # newest first: the default --to is the first line below
        print(f"{version.name:<24} {version.describe()}")
    if not kept:
        print("No earlier version is kept.")
    return 0
