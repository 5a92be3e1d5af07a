"""``python -m critac_metrics COMMAND``: see cli.py."""

import sys


def _deck_requested(argv: list[str]) -> bool:
    """``report --format pptx``: the deck's Chromium (~0.6 s to start) then starts before the
    command's own modules load (pandas, DuckDB, the metrics: about 0.5 s)."""
    formats = [value for flag, value in zip(argv, argv[1:], strict=False) if flag == "--format"]
    return argv[:1] == ["report"] and ("pptx" in formats or "--format=pptx" in argv)


if _deck_requested(sys.argv[1:]):
    from .render import warm_up

    warm_up()

from .cli import main  # noqa: E402

sys.exit(main())
