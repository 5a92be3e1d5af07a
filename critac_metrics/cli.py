"""Command line: ``python -m critac_metrics {ingest,validate,demo,summary,series,report,docs,contract,rollback}``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

import duckdb

from . import db, metrics, registry
from .filters import DATE_BASES, LIST_FILTERS, Filters
from .ingest import ingest_files, validate_files
from .store import build_demo_database, topic_names


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


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
            help="repeat to select several",
        )


def _filters(args: argparse.Namespace, con) -> Filters:
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
    p.add_argument(
        "--min-n",
        type=int,
        default=metrics.DEFAULT_MIN_N,
        help="suppress outcome figures built on fewer answers",
    )

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
    p.add_argument(
        "--min-n",
        type=int,
        default=metrics.DEFAULT_MIN_N,
        help="suppress outcome figures built on fewer answers",
    )

    p = sub.add_parser("docs", help="print docs/metrics.md generated from the metric registry")

    p = sub.add_parser("contract", help="print docs/data-contract.md generated from the schema")

    p = sub.add_parser("rollback", help="publish the previous database version again")
    p.add_argument("--db", required=True, type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = globals()[f"_cmd_{args.command}"]
    try:
        return handler(args)
    except duckdb.Error as exc:  # e.g. --db names a file that is not a DuckDB database
        where = getattr(args, "db", None) or "the database"
        print(f"error: {where}: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `summary | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _print_report(report) -> None:
    for line in report.summary_lines():
        print(line, file=sys.stderr if not report.ok else sys.stdout)


def _cmd_ingest(args) -> int:
    report = ingest_files(args.db, args.files, source="cli")
    _print_report(report)
    return 0 if report.ok else 1


def _cmd_validate(args) -> int:
    report = validate_files(args.files, args.db)
    _print_report(report)
    return 0 if report.ok else 1


def _cmd_demo(args) -> int:
    from . import demo

    engagements = demo.DEFAULT_ENGAGEMENTS if args.engagements is None else args.engagements
    if engagements < 1:
        print("error: --engagements must be at least 1", file=sys.stderr)
        return 2
    seed = demo.DEFAULT_SEED if args.seed is None else args.seed
    report = build_demo_database(args.db, engagements, seed)
    _print_report(report)
    return 0 if report.ok else 1


def _open(path: Path):
    if not path.exists():
        raise SystemExit(f"error: no database at {path}")
    try:
        db.upgrade(path)  # a store built by older code gets its derived tables rebuilt once
    except OSError as exc:
        raise SystemExit(
            f"error: {path} was built by an older version and its summary tables must be rebuilt,"
            f" but it cannot be written here ({exc.strerror or exc})"
        ) from None
    return db.connect(path, read_only=True)


def _cmd_summary(args) -> int:
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
        "engagements",
        "completed",
        "completion_rate",
        "agencies_served",
        "states_reached",
        "survey_responses",
        "responded_engagements",
        "response_rate",
    ):
        print(f"  {registry.label(name):<32} {registry.METRICS[name].format(result[name]):>10}")
    for key, title in (("outcomes", "Outcomes (post)"), ("follow_up_outcomes", "Follow-up")):
        print(f"{title}: item, n, % positive, mean")
        for item, fig in result[key].items():
            pct = (
                "suppressed" if fig["suppressed"] else registry.format_value(fig["top2_pct"], "pct")
            )
            mean = "" if fig["suppressed"] else registry.format_value(fig["mean"], "mean")
            print(f"  {item:<20} {fig['n']:>7,} {pct:>12} {mean:>6}")
    print("Engagements by topic:")
    for topic, count in result["by_topic"].items():
        print(f"  {topic:<48} {count:>7,}")
    print("Engagements by agency type:")
    for kind, count in result["by_agency_type"].items():
        print(f"  {kind:<48} {count:>7,}")
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


def _cmd_series(args) -> int:
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


def _cmd_report(args) -> int:
    from . import report  # plotly and python-pptx load only for this command

    con = _open(args.db)
    filters = _filters(args, con)
    try:
        path = report.write(con, filters, args.format, args.out, args.sections, args.min_n)
    except report.ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"path": str(path), "format": args.format}) if args.json else path)
    return 0


def _cmd_docs(args) -> int:
    sys.stdout.write(registry.metrics_markdown())
    return 0


def _cmd_contract(args) -> int:
    from . import schema

    sys.stdout.write(schema.contract_markdown())
    return 0


def _cmd_rollback(args) -> int:
    try:
        restored = db.rollback(args.db)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Restored {args.db} to the version kept as {restored.name}")
    return 0
