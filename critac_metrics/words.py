"""Numbers in words, one way everywhere (charts, the report, the dashboard, the CLI):
``plural(3, "agency", "agencies")`` -> '3 agencies', ``ordinal(1000)`` -> '1,000th'."""

from __future__ import annotations


def plural(count: int, noun: str, plural: str | None = None) -> str:
    """'1 engagement', '2 engagements'; ``plural`` for an irregular noun ('agencies')."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def ordinal(n: int) -> str:
    """1 -> '1st', 12 -> '12th', 1000 -> '1,000th'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"
