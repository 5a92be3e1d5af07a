"""The figure builders: values come from the metric frames, raw values ride in customdata,
suppressed outcomes show no numbers, the state map is offline, and every figure renders to PNG."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import os
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from critac_metrics import charts, dimensions, metrics, schema
from critac_metrics.alt_text import figure_takeaway
from critac_metrics.charts.layout import count_margin
from critac_metrics.filters import Filters

NOBODY = Filters(states=("WY",))  # the tiny set has no agency in Wyoming


def arr(value) -> np.ndarray:
    """A trace array as numpy, whether plain, numpy or a Plotly 7 typed array."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value if value is not None else [])


def annotation_texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def is_empty_figure(fig: go.Figure, message: str = charts.EMPTY_MESSAGE) -> bool:
    return not fig.data and message in annotation_texts(fig)


def trace_named(fig: go.Figure, name: str):
    return next(t for t in fig.data if t.name == name)


# -- theme ----------------------------------------------------------------------------------------


def test_template_is_registered_but_not_the_default():
    assert charts.TEMPLATE in pio.templates
    assert pio.templates.default != charts.TEMPLATE
    layout = pio.templates[charts.TEMPLATE].layout
    assert list(layout.colorway) == list(charts.PALETTE)
    assert layout.paper_bgcolor == layout.plot_bgcolor == "rgba(0,0,0,0)"
    assert layout.font.color == charts.INK


def test_palette_and_scales():
    # What the colours must do for a reader (contrast, colour-blind safety, order) is in
    # test_palette.py; here, the shapes the chart code relies on.
    assert len(charts.LIKERT_COLORS) == len(charts.LIKERT_LABELS) == 5
    assert charts.SEQUENTIAL[0][0] == 0 and charts.SEQUENTIAL[-1][0] == 1
    assert charts.scale_colour(-1) == charts.SEQUENTIAL[0][1].lower()
    assert charts.scale_colour(2) == charts.SEQUENTIAL[-1][1].lower()


def test_value_labels():
    assert (
        dimensions.value_label("assistance_type", "virtual_consultation") == "Virtual consultation"
    )
    assert dimensions.value_label("topic", "De-escalation") == "De-escalation"
    assert dimensions.value_label("topic", "Use of Force") == "Use of Force"
    assert dimensions.value_label("agency_type", float("nan")) == "Unknown"
    assert charts.category_label("state", "ID") == "Idaho"
    assert charts.category_label("topic", "<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"


# -- volume ---------------------------------------------------------------------------------------


def test_volume_trend(tiny_con):
    frame = metrics.volume_series(tiny_con, Filters(), "fiscal_year")
    fig = charts.volume_trend(frame, "fiscal_year")
    assert fig.layout.title.text == "Engagements per fiscal year"
    assert fig.layout.template.layout.colorway == tuple(charts.PALETTE)
    bars = trace_named(fig, "Engagements")
    assert bars.type == "bar"
    assert list(bars.x) == list(frame["period"])
    assert arr(bars.y).tolist() == frame["engagements"].tolist()
    assert arr(trace_named(fig, "Requests").y).tolist() == frame["requests"].tolist()
    assert arr(trace_named(fig, "Completed").y).tolist() == frame["completed"].tolist()
    assert fig.layout.xaxis.type == "category"
    assert fig.layout.yaxis.tickformat == ",d"


def test_cumulative_with_milestones(tiny_con):
    cum = metrics.cumulative_engagements(tiny_con, Filters())
    ms = metrics.milestones(tiny_con, Filters())
    fig = charts.cumulative(cum, ms)
    line = fig.data[0]
    assert arr(line.y).tolist() == cum["cumulative"].tolist()
    markers = trace_named(fig, "Milestones")
    assert arr(markers.y).tolist() == [1]
    assert list(markers.text) == ["1st engagement · Dec 2022"]  # the hover
    # At the very start of the data the label goes under-right (1 of 5 leaves room under it),
    # so the x axis need not start long before the data.
    [label] = [a for a in fig.layout.annotations if a.showarrow]
    assert label.text.startswith("1st<br>") and label.xanchor == "left"
    assert pd.Timestamp(fig.layout.xaxis.range[0]) >= pd.Timestamp(
        cum["requested_on"].min()
    ) - pd.Timedelta(days=31)


def test_a_milestone_at_the_start_without_room_under_it_keeps_only_its_marker(tiny_con):
    cum = metrics.cumulative_engagements(tiny_con, Filters())
    ms = metrics.milestones(tiny_con, Filters())
    tall = cum.assign(cumulative=cum["cumulative"] * 100)  # the 1st of 500: at the x axis
    fig = charts.cumulative(tall, ms)
    assert arr(trace_named(fig, "Milestones").y).tolist() == [1]
    assert not [a for a in fig.layout.annotations if a.showarrow]


def test_cumulative_milestone_labels_fit_a_phone_width_chart(demo_con):
    """The labels fit the plot of a 390 px screen (MILESTONE_PLOT): the ordinal and the month on
    two short lines, clear of the y axis' tick labels (the browser test measures the real ones)."""
    cum = metrics.cumulative_engagements(demo_con, Filters())
    ms = metrics.milestones(demo_con, Filters())
    fig = charts.cumulative(cum, ms)
    start, end = (pd.Timestamp(v) for v in fig.layout.xaxis.range)
    labels = [a for a in fig.layout.annotations if a.showarrow]
    assert len(labels) >= 3
    assert any(a.text.startswith("500th<br>") for a in labels)  # two short lines
    plot_px, plot_height = charts.MILESTONE_PLOT
    y_top = fig.layout.yaxis.range[1]
    early = [a for a in labels if a.xanchor == "left"]
    # The 250th has no room under it in a phone's plot: its marker and hover stay.
    assert [a.text.split("<br>")[0] for a in early] == []
    for label in early:  # under-right of its milestone: clear of the y axis and above the x axis
        assert label.ax > 0 and label.ay > 0
        assert (pd.Timestamp(label.x) - start) / (end - start) < 0.35
        assert label.y / y_top * plot_height >= label.ay + charts.MILESTONE_LABEL_PX
    for label in (a for a in labels if a not in early):
        assert label.xanchor == "right" and label.ax < 0 and label.ay < 0  # above-left
        room = (pd.Timestamp(label.x) - start) / (end - start) * plot_px
        width = charts.MILESTONE_CHAR_PX * max(len(part) for part in label.text.split("<br>"))
        assert room >= width - label.ax, label.text  # not clipped at the left edge
        headroom = (fig.layout.yaxis.range[1] - label.y) / fig.layout.yaxis.range[1]
        assert headroom * plot_height >= -label.ay, label.text


def test_volume_trend_single_period_shows_every_series(tiny_con):
    frame = metrics.volume_series(tiny_con, Filters(), "fiscal_year").iloc[[1]]
    fig = charts.volume_trend(frame, "fiscal_year")
    for name in ("Requests", "Completed"):
        line = trace_named(fig, name)
        assert line.mode == "lines+markers"  # one point draws no line: the marker shows it
        assert arr(line.marker.size).tolist()[0] > 0


def partial_frames(con, f: Filters | None = None) -> dict[str, tuple]:
    """(frame, build) for each builder that shows periods; the tiny data runs to 1 Oct 2024, so
    FY2025 is in progress."""
    f = f or Filters()
    return {
        "volume": (
            metrics.volume_series(con, f, "fiscal_year"),
            lambda frame: charts.volume_trend(frame, "fiscal_year"),
        ),
        "series": (
            metrics.series_by(con, f, "fiscal_year", "agency_type"),
            lambda frame: charts.series_by_dimension(frame, "agency_type", "fiscal_year"),
        ),
        "first_time": (
            _with_fy2025(metrics.first_time_vs_repeat(con, f)),
            charts.first_time_vs_repeat,
        ),
    }


def _with_fy2025(frame: pd.DataFrame) -> pd.DataFrame:
    """First-time vs repeat counts agencies served by delivered engagements, and tiny has none in
    FY2025 (E5 is in progress): add that period, in progress, to draw the partial marking."""
    if frame.empty:
        return frame
    row = {"period": "FY2025", "period_start": pd.Timestamp("2024-10-01"),
           "first_time_agencies": 1, "repeat_agencies": 0, "is_partial": True}  # fmt: skip
    return pd.concat([frame, pd.DataFrame([row])], ignore_index=True)


@pytest.mark.parametrize("kind", ["volume", "series", "first_time"])
def test_partial_period_is_marked(tiny_con, kind):
    frame, build = partial_frames(tiny_con)[kind]
    assert frame.loc[frame["is_partial"], "period"].unique().tolist() == ["FY2025"]
    fig = build(frame)
    assert "FY2025*" in list(fig.layout.xaxis.ticktext)
    assert "FY2024" in list(fig.layout.xaxis.ticktext)
    assert list(fig.layout.xaxis.tickvals)[-1] == "FY2025"
    assert "* FY2025: period still in progress" in fig.layout.title.subtitle.text
    bars = [t for t in fig.data if t.type == "bar"]
    assert bars
    for bar in bars:
        flags = [p == "FY2025" for p in bar.x]
        assert any(flags)
        shapes = list(bar.marker.pattern.shape)
        opacity = arr(bar.marker.opacity).tolist()
        assert shapes == [charts.PARTIAL_PATTERN if f else "" for f in flags]
        assert opacity == [charts.PARTIAL_OPACITY if f else 1 for f in flags]
        assert [h != "" for h in bar.hovertext] == flags
        assert "%{hovertext}" in bar.hovertemplate
    for line in (t for t in fig.data if t.type == "scatter"):
        symbols = list(line.marker.symbol)
        assert symbols == ["circle-open" if p == "FY2025" else "circle" for p in line.x]


@pytest.mark.parametrize("kind", ["volume", "series", "first_time"])
def test_frames_without_is_partial_still_work(tiny_con, kind):
    frame, build = partial_frames(tiny_con)[kind]
    fig = build(frame.drop(columns="is_partial"))
    assert fig.data and fig.layout.xaxis.tickvals is None  # Plotly places the ticks
    assert "progress" not in (fig.layout.title.subtitle.text or "")
    for bar in (t for t in fig.data if t.type == "bar"):
        assert bar.marker.pattern.shape is None and bar.marker.opacity is None
    complete = build(frame.assign(is_partial=False))
    assert complete.layout.xaxis.tickvals is None


@pytest.mark.parametrize("kind", ["volume", "series", "first_time"])
def test_empty_frames_with_is_partial(tiny_con, kind):
    frame, build = partial_frames(tiny_con, NOBODY)[kind]
    assert "is_partial" in frame and frame.empty
    assert is_empty_figure(build(frame))
    assert is_empty_figure(build(frame.drop(columns="is_partial")))


def test_partial_ticks_are_thinned_but_keep_the_partial_period():
    months = pd.date_range("2018-01-01", "2026-10-01", freq="MS")
    frame = pd.DataFrame(
        {"period": [f"{m:%Y-%m}" for m in months], "period_start": months,
         "requests": 5, "engagements": 4, "completed": 3, "is_partial": months == months[-1]}
    )  # fmt: skip
    fig = charts.volume_trend(frame, "month")
    ticks = list(fig.layout.xaxis.ticktext)
    assert len(ticks) <= charts.MAX_PERIOD_TICKS + 1
    assert ticks[-1] == "2026-10*"
    line = trace_named(fig, "Requests")
    sizes = arr(line.marker.size).tolist()
    assert sizes[-1] > 0 and set(sizes[:-1]) == {0}  # long series: only the partial point


def test_backlog(tiny_con):
    frame = metrics.backlog_series(tiny_con, Filters())
    fig = charts.backlog(frame)
    assert arr(fig.data[0].y).tolist() == frame["open_requests"].tolist()
    assert fig.layout.title.text == "Open requests at each month end"


def test_first_time_vs_repeat(tiny_con):
    frame = metrics.first_time_vs_repeat(tiny_con, Filters())
    fig = charts.first_time_vs_repeat(frame)
    assert fig.layout.barmode == "stack"
    assert "per fiscal year" in fig.layout.title.text
    assert arr(fig.data[0].y).tolist() == frame["first_time_agencies"].tolist()
    assert arr(fig.data[1].y).tolist() == frame["repeat_agencies"].tolist()
    assert "Agencies served" in fig.layout.title.text  # it counts agencies, not engagements
    assert fig.layout.yaxis.title.text == "Agencies served"
    assert [t.name for t in fig.data] == ["First-time agencies", "Repeat agencies"]


# -- breakdowns -----------------------------------------------------------------------------------


def test_bar_breakdown_keeps_an_ordered_dimensions_order_with_raw_customdata(tiny_con):
    frame = metrics.breakdown(tiny_con, Filters(), "assistance_type")
    fig = charts.bar_breakdown(frame, "assistance_type")
    bar = fig.data[0]
    raw = [row[0] for row in bar.customdata]
    assert raw == list(frame["assistance_type"])  # the order the metric returns: the natural one
    assert raw == sorted(raw, key=schema.ASSISTANCE_TYPES.index)
    assert fig.layout.yaxis.autorange == "reversed"  # the first value on top
    expected = frame.set_index("assistance_type")["engagements"]
    assert arr(bar.x).tolist() == [int(expected[r]) for r in raw]
    assert "virtual_consultation" in raw
    assert "Virtual consultation" in list(bar.y)
    assert fig.layout.title.text == "Engagements by assistance type"


@pytest.mark.parametrize("name", list(dimensions.DIMENSIONS))
def test_bars_and_the_breakdown_order_values_by_the_same_dimension(demo_con, name):
    """One Dimension decides both: a breakdown of an ordered dimension comes back in its natural
    order and its bars keep that order; any other is ranked by the chart's figure."""
    dimension = dimensions.DIMENSIONS[name]
    frame = metrics.breakdown(demo_con, Filters(), name)
    raw = [row[0] for row in charts.bar_breakdown(frame, name).data[0].customdata]
    if dimension.ordered:
        assert dimension.order is not None
        assert list(frame[name]) == sorted(frame[name], key=dimension.rank)
        assert raw == list(frame[name])
    else:
        ranked = frame[frame["engagements"] > 0].sort_values(
            "engagements", ascending=False, kind="stable"
        )
        assert raw == list(ranked[name])
        counts = frame.set_index(name)["engagements"]
        assert [counts[r] for r in raw] == sorted(counts[counts > 0], reverse=True)


def test_a_ranked_dimensions_bars_are_sorted_largest_first(tiny_con):
    frame = metrics.breakdown(tiny_con, Filters(), "delivery_mode")
    bar = charts.bar_breakdown(frame, "delivery_mode").data[0]
    values = arr(bar.x).tolist()
    assert values == sorted(values, reverse=True)
    assert "On site" in list(bar.y)  # the value's label, not its code


def test_bar_breakdown_topic_note_and_top(tiny_con):
    frame = metrics.breakdown(tiny_con, Filters(), "topic")
    fig = charts.bar_breakdown(frame, "topic", top=3)
    assert len(fig.data[0].x) == 3
    assert "each of its topics" in fig.layout.title.subtitle.text
    assert f"Top 3 of {len(frame)}" in fig.layout.title.subtitle.text
    assert fig.data[0].customdata[0][0] == "De-escalation"


def test_a_ranking_leaves_out_values_with_none(tiny_con):
    """Campus agencies: School Safety was requested (E4) but declined, so it has no engagement."""
    frame = metrics.breakdown(tiny_con, Filters(agency_types=("campus",)), "topic")
    assert frame.set_index("topic").loc["School Safety", "engagements"] == 0
    fig = charts.bar_breakdown(frame, "topic")
    assert [row[0] for row in fig.data[0].customdata] == ["Active Shooter Response"]
    nothing = charts.bar_breakdown(frame[frame["engagements"] == 0], "topic")
    assert not nothing.data  # the empty figure, with its message


def test_subtitles_wrap_for_a_half_width_chart(demo_con):
    frame = metrics.breakdown(demo_con, Filters(), "topic")
    fig = charts.bar_breakdown(frame, "topic", top=12)
    subtitle = fig.layout.title.subtitle.text
    ranked = int((frame["engagements"] > 0).sum())
    assert subtitle == (f"{charts.MULTI_TOPIC_NOTE}<br>Top 12 of {ranked} shown")
    one_line = charts.bar_breakdown(frame, "topic")
    assert "<br>" not in one_line.layout.title.subtitle.text
    assert fig.layout.margin.t == one_line.layout.margin.t + charts.SUBTITLE_LINE


def test_wrap_subtitle():
    wrap = charts.wrap_subtitle
    assert wrap("short · notes") == "short · notes"
    assert wrap("a" * 30 + " · " + "b" * 30, width=40) == "a" * 30 + "<br>" + "b" * 30
    words = wrap("one two three four five six", width=10)
    assert words == "one two<br>three four<br>five six"
    assert wrap("first line<br>second", width=10) == "first line<br>second"
    marked = wrap('<span style="color:red">' + "x" * 20 + "</span> · y", width=24)
    assert marked.endswith("</span> · y")  # markup does not count towards the width
    tagged = wrap('aaaa bbbb <span style="color:red">cc</span>', width=8)
    assert tagged == 'aaaa<br>bbbb <span style="color:red">cc</span>'  # tags stay whole


def test_bar_breakdown_keeps_natural_order(tiny_con):
    frame = metrics.breakdown(tiny_con, Filters(), "agency_type")
    fig = charts.bar_breakdown(frame, "agency_type", value="agencies")
    assert [row[0] for row in fig.data[0].customdata] == frame["agency_type"].tolist()
    assert list(fig.data[0].y) == [
        dimensions.value_label("agency_type", t) for t in frame["agency_type"]
    ]
    assert arr(fig.data[0].x).tolist() == frame["agencies"].tolist()
    assert fig.layout.title.text == "Agencies served by agency type"


def test_bar_breakdown_state_labels_are_names(tiny_con):
    fig = charts.bar_breakdown(metrics.breakdown(tiny_con, Filters(), "state"), "state")
    pairs = {
        row[0]: label for row, label in zip(fig.data[0].customdata, fig.data[0].y, strict=True)
    }
    assert pairs["AZ"] == "Arizona"


def test_series_by_dimension_bars(tiny_con):
    frame = metrics.series_by(tiny_con, Filters(), "fiscal_year", "topic")
    fig = charts.series_by_dimension(frame, "topic", "fiscal_year")
    assert fig.layout.barmode == "stack"
    assert {t.type for t in fig.data} == {"bar"}
    totals = frame.groupby("topic")["engagements"].sum()
    names = [t.customdata[0][0] for t in fig.data]
    assert [totals[n] for n in names] == sorted(totals[totals > 0], reverse=True)
    assert names[0] == "De-escalation"
    for trace in fig.data:
        raw = trace.customdata[0][0]
        expected = frame[frame["topic"] == raw]["engagements"].tolist()
        assert arr(trace.y).tolist() == expected
        assert {row[0] for row in trace.customdata} == {raw}


def test_series_by_dimension_lines_when_many_values():
    periods = ["FY2023", "FY2024"]
    rows = [
        {"period": p, "period_start": pd.Timestamp(f"{2022 + i}-10-01"), "topic": f"T{v:02d}",
         "engagements": v + i}
        for i, p in enumerate(periods)
        for v in range(10)
    ]  # fmt: skip
    fig = charts.series_by_dimension(pd.DataFrame(rows), "topic", "fiscal_year")
    assert {t.type for t in fig.data} == {"scatter"}
    assert [t.customdata[0][0] for t in fig.data] == [f"T{v:02d}" for v in range(9, -1, -1)]
    assert [t.visible for t in fig.data].count("legendonly") == 2


def test_topic_heatmap(tiny_con):
    matrix = metrics.topic_by_agency_type(tiny_con, Filters())
    fig = charts.topic_heatmap(matrix)
    # Column labels on top and horizontal (tilted ones ran into the subtitle), with a top margin
    # that holds title, subtitle and one line of labels.
    assert fig.layout.xaxis.side == "top" and fig.layout.xaxis.tickangle == 0
    assert fig.layout.margin.t >= 58 + 4 + charts.SUBTITLE_LINE + 30
    heat = fig.data[0]
    types = [c for c in matrix.columns if c != "topic"]
    assert np.array_equal(np.asarray(heat.z), matrix[types].to_numpy())
    assert list(heat.y) == matrix["topic"].tolist()
    assert fig.layout.yaxis.autorange == "reversed"  # largest topic at the top
    for i, topic in enumerate(matrix["topic"]):
        assert all(cell[0] == topic for cell in heat.customdata[i])
    assert heat.customdata[0][types.index("tribal")][1] == "tribal"


# -- the state map --------------------------------------------------------------------------------


def test_state_map_tiles(tiny_con):
    frame = metrics.engagements_by_state(tiny_con, Filters())
    fig = charts.state_map(frame)
    spec = fig.to_plotly_json()
    assert all(t["type"] == "scatter" for t in spec["data"])
    forbidden = ("geo", "map", "mapbox")
    assert not any(k in spec["layout"] for k in forbidden)
    assert not any(re.search(r"geo|map|choropleth", t["type"]) for t in spec["data"])
    tiles = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(tiles) == 56
    points = fig.data[0]
    assert len(points.x) == 56
    codes = [row[0] for row in points.customdata]
    assert sorted(codes) == sorted(schema.STATES)
    counts = {row[0]: row[1] for row in points.customdata}
    assert counts == dict(zip(frame["state"], frame["engagements"], strict=True))
    assert counts["AZ"] == 2 and counts["GU"] == 0
    texts = dict(zip(codes, points.text, strict=True))
    assert texts["AZ"] == "<b>AZ</b><br>2"
    hovers = dict(zip(codes, points.hovertext, strict=True))
    assert hovers["AZ"] == "<b>Arizona</b>: 2 engagements · 1 agency"
    assert hovers["IL"] == "<b>Illinois</b>: 2 engagements · 1 agency"
    fills = {code: tile.fillcolor for code, tile in zip(codes, tiles, strict=True)}
    assert fills["WY"] == charts.ZERO_TILE
    assert fills["AZ"] != charts.ZERO_TILE
    assert fig.layout.yaxis.scaleanchor == "x"
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert "U.S. territories" in annotation_texts(fig)


def test_tile_grid_has_no_overlaps():
    positions = list(charts.TILE_GRID.values())
    assert len(set(positions)) == len(positions)
    assert set(charts.TILE_GRID) == set(schema.STATES)
    assert charts.TILE_GRID["AK"] == (0, 0)
    assert all(charts.TILE_GRID[t][1] > 7 for t in schema.TERRITORIES)


# -- outcomes -------------------------------------------------------------------------------------


def test_likert_diverging(tiny_con):
    frame = metrics.item_outcomes(tiny_con, Filters())  # operations_change: n=4, suppressed
    fig = charts.likert_diverging(frame)
    assert fig.layout.barmode == "relative"
    labels = list(fig.layout.yaxis.ticktext)
    assert labels[0] == "Satisfaction (n=6)"
    assert "Operations change — suppressed (n=4 &lt; 5)" not in labels[3]
    assert "Operations change — suppressed (n=4 < 5)" in labels[3]
    suppressed_row = 3
    for trace in fig.data:
        assert suppressed_row not in arr(trace.y).tolist()
    # Answer 1 and 2 to the left, 4 and 5 to the right, 3 split across zero.
    by_answer: dict[str, list] = {}
    for trace in fig.data:
        by_answer.setdefault(trace.name, []).append(
            dict(zip(arr(trace.y), arr(trace.x), strict=True))
        )
    sat = frame.iloc[0]
    assert by_answer["1 – very low"][0][0] == pytest.approx(-sat["pct_1"])
    assert by_answer["2 – low"][0][0] == pytest.approx(-sat["pct_2"])
    left, right = by_answer["3 – neutral"]
    assert left[0] == pytest.approx(-sat["pct_3"] / 2) and right[0] == pytest.approx(
        sat["pct_3"] / 2
    )
    assert by_answer["5 – very high"][0][0] == pytest.approx(sat["pct_5"])
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert sorted(legend, key=lambda n: n[0]) == list(charts.LIKERT_LABELS)
    assert "67%" in " ".join(annotation_texts(fig))  # top-2 at the right end of satisfaction
    assert all(a.y != suppressed_row for a in fig.layout.annotations if a.yref != "paper")


def test_likert_never_shows_numbers_for_suppressed_items(tiny_con):
    frame = metrics.item_outcomes(tiny_con, Filters(), "follow_up", min_n=5)
    assert frame["suppressed"].all() and (frame["n"] == 1).all()
    fig = charts.likert_diverging(frame, wave="follow_up")
    assert fig.layout.title.text.startswith("Follow-up survey")
    assert all(len(arr(t.x)) == 0 for t in fig.data)
    shown_text = " ".join(annotation_texts(fig)) + " ".join(str(t.text) for t in fig.data)
    assert not re.search(r"\d\s*%", shown_text)
    labels = list(fig.layout.yaxis.ticktext)
    assert all("suppressed (n=1 < 5)" in label for label in labels)
    assert all("%" not in label for label in labels)


def test_top2_by_segment(tiny_con):
    frame = metrics.outcomes_by(tiny_con, Filters(), "topic", min_n=2)
    frame = frame[frame["item"] == "satisfaction"]
    fig = charts.top2_by_segment(frame, "topic", min_n=2)
    dots = fig.data[0]
    shown = frame[~frame["suppressed"]]
    by_topic = dict(zip(shown["topic"], shown["top2_pct"], strict=True))
    raw = [row[0] for row in dots.customdata]
    assert sorted(raw) == sorted(by_topic)
    assert arr(dots.x).tolist() == pytest.approx([by_topic[t] for t in raw])
    high = dict(zip(shown["topic"], shown["top2_high"] - shown["top2_pct"], strict=True))
    assert arr(dots.error_x.array).tolist() == pytest.approx([high[t] for t in raw])
    labels = list(fig.layout.yaxis.ticktext)
    assert "De-escalation (n=5, response rate 100%)" in labels
    suppressed = [label for label in labels if "suppressed" in label]
    # Crisis Intervention (n=1) and, so that it cannot be worked out, the next smallest; neither
    # shows its n
    assert len(suppressed) == 2 and "Crisis Intervention — suppressed<" in suppressed[0]
    assert all("n=" not in label for label in suppressed)
    assert len(dots.x) == len(labels) - 2
    assert "Satisfaction" in fig.layout.title.text


def test_top2_by_segment_says_why_when_every_segment_is_suppressed(demo_con):
    def satisfaction(min_n: int) -> pd.DataFrame:
        frame = metrics.outcomes_by(demo_con, Filters(), "topic", min_n=min_n)
        return frame.query("item == 'satisfaction'")

    outcomes = satisfaction(metrics.DEFAULT_MIN_N)
    message = charts.outcomes.all_suppressed_message("topic", 10**6)
    hidden = charts.top2_by_segment(satisfaction(10**6), "topic", min_n=10**6)
    texts = [a.text for a in hidden.layout.annotations]
    assert message in texts
    # Read aloud too: the chart's accessible name carries the note.
    assert figure_takeaway(hidden).endswith(
        "has fewer than 1000000 respondents or is hidden with one that has."
    )
    assert len(hidden.data[0].x) == 0  # no dot, and no figure of a hidden row in the message
    shown = charts.top2_by_segment(outcomes, "topic")
    assert len(shown.data[0].x) > 0
    assert charts.outcomes.all_suppressed_message("topic", metrics.DEFAULT_MIN_N) not in [
        a.text for a in shown.layout.annotations
    ]


def test_top2_by_segment_needs_one_item(tiny_con):
    frame = metrics.outcomes_by(tiny_con, Filters(), "topic")
    with pytest.raises(ValueError, match="one survey item"):
        charts.top2_by_segment(frame, "topic")


def test_post_vs_follow_up(tiny_con):
    frame = metrics.post_vs_follow_up(tiny_con, Filters(), matched=False)
    fig = charts.post_vs_follow_up(frame)
    post = trace_named(fig, "Post-engagement survey")
    follow = trace_named(fig, "Follow-up survey")
    shown = frame[(frame["wave"] == "post") & ~frame["suppressed"]]
    assert arr(post.y).tolist() == pytest.approx(shown["top2_pct"].astype(float).tolist())
    assert [row[1] for row in post.customdata] == shown["n"].tolist()
    assert len(arr(follow.y)) == 0  # every follow-up item is suppressed in the tiny set
    notes = [t for t in annotation_texts(fig) if t.startswith("suppressed")]
    assert len(notes) == 6  # five follow-up items and post operations_change
    assert all("%" not in note for note in notes)


def test_funnel(tiny_con):
    frame = metrics.status_funnel(tiny_con, Filters())
    fig = charts.funnel(frame)
    trace = fig.data[0]
    assert trace.type == "funnel"
    assert arr(trace.x).tolist() == frame["requests"].tolist()
    assert list(trace.y) == frame["stage"].tolist()
    assert trace.text[0] == f"{frame['requests'][0]:,} · 100%"


def test_timeliness(tiny_con):
    frame = metrics.timeliness(tiny_con, Filters(), "delivery_mode")
    fig = charts.timeliness(frame, "delivery_mode")
    start = trace_named(fig, "Request to start")
    assert arr(start.x).tolist() == frame["median_days_to_start"].tolist()
    tail = (frame["p90_days_to_start"] - frame["median_days_to_start"]).tolist()
    assert arr(start.error_x.array).tolist() == pytest.approx(tail)
    assert [row[0] for row in start.customdata] == frame["delivery_mode"].tolist()
    assert "On site" in list(fig.layout.yaxis.ticktext)
    assert [row[3] for row in start.customdata] == list(fig.layout.yaxis.ticktext)
    overall = charts.timeliness(metrics.timeliness(tiny_con, Filters()))
    assert list(overall.layout.yaxis.ticktext) == ["All engagements"]
    assert overall.layout.title.text == "Days to start and to complete"


def test_timeliness_labels_every_bar_at_its_median_off_the_whisker(demo_con):
    frame = metrics.timeliness(demo_con, Filters(), "assistance_type")
    fig = charts.timeliness(frame, "assistance_type")
    bars = [t for t in fig.data if t.type == "bar"]
    texts = [t for t in fig.data if t.type == "scatter"]
    assert len(bars) == len(texts) == 2
    assert all(t.showlegend is False and t.hoverinfo == "skip" for t in texts)
    widest = 0.0
    for bar, labels, side in zip(bars, texts, ("top", "bottom"), strict=True):
        assert bar.text is None  # no shrinking text inside the bars
        median = arr(bar.x)
        tips = median + arr(bar.error_x.array)
        widest = max(widest, tips.max())
        # One readable label per bar, however short the bar, at the end of the bar (its median,
        # not the whisker's end) and off the whisker: above it for the upper bar, below for the
        # lower one.
        assert [t.strip() for t in labels.text] == [f"{m:,.0f} days" for m in median]
        assert labels.textposition == f"{side} right" and labels.cliponaxis is False
        assert arr(labels.x).tolist() == pytest.approx(median.tolist())
        assert (tips > median).any()
        centres = arr(bar.y) + bar.offset + bar.width / 2
        assert arr(labels.y).tolist() == pytest.approx(centres.tolist())
    assert frame["median_days_start_to_completion"].min() < widest / 14  # a very short bar
    assert fig.layout.xaxis.range[1] >= widest * 1.2  # room for whisker + label


def test_timeliness_without_completions():
    frame = pd.DataFrame(
        {"segment": ["All"], "started": [3], "median_days_to_start": [10.0],
         "p90_days_to_start": [20.0], "completed": [0],
         "median_days_start_to_completion": [np.nan], "p90_days_start_to_completion": [np.nan]}
    )  # fmt: skip
    fig = charts.timeliness(frame)
    labels = [t for t in fig.data if t.type == "scatter"]
    assert [list(t.text) for t in labels] == [[" 10 days"], [" none"]]
    assert arr(labels[1].x).tolist() == [0]


# -- empty selections -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda c, f: charts.volume_trend(metrics.volume_series(c, f, "month"), "month"),
        lambda c, f: charts.cumulative(
            metrics.cumulative_engagements(c, f), metrics.milestones(c, f)
        ),
        lambda c, f: charts.bar_breakdown(metrics.breakdown(c, f, "topic"), "topic"),
        lambda c, f: charts.series_by_dimension(
            metrics.series_by(c, f, "month", "agency_type"), "agency_type", "month"
        ),
        lambda c, f: charts.topic_heatmap(metrics.topic_by_agency_type(c, f)),
        lambda c, f: charts.state_map(metrics.engagements_by_state(c, f)),
        lambda c, f: charts.funnel(metrics.status_funnel(c, f)),
        lambda c, f: charts.timeliness(metrics.timeliness(c, f, "topic"), "topic"),
        lambda c, f: charts.backlog(metrics.backlog_series(c, f)),
        lambda c, f: charts.first_time_vs_repeat(metrics.first_time_vs_repeat(c, f)),
        lambda c, f: charts.top2_by_segment(metrics.outcomes_by(c, f, "topic"), "topic"),
    ],
)
def test_empty_selection_gives_the_message(tiny_con, build):
    fig = build(tiny_con, NOBODY)
    assert is_empty_figure(fig)
    assert fig.layout.title.text  # still says what it would show


def test_empty_frames_give_the_message():
    empty = pd.DataFrame()
    assert is_empty_figure(charts.likert_diverging(empty))
    assert is_empty_figure(charts.post_vs_follow_up(empty))
    assert is_empty_figure(charts.bar_breakdown(empty, "topic"))


def test_outcomes_without_answers(tiny_con):
    fig = charts.likert_diverging(metrics.item_outcomes(tiny_con, NOBODY))
    assert is_empty_figure(fig, charts.NO_ANSWERS_MESSAGE)
    fig = charts.post_vs_follow_up(metrics.post_vs_follow_up(tiny_con, NOBODY))
    assert is_empty_figure(fig, charts.NO_ANSWERS_MESSAGE)


# -- export helpers -------------------------------------------------------------------------------


def test_with_context_adds_footer_and_demo_label(tiny_con):
    fig = charts.bar_breakdown(metrics.breakdown(tiny_con, Filters(), "topic"), "topic")
    before = copy.deepcopy(fig.to_plotly_json())
    sentence = Filters(agency_types=("tribal",)).describe()
    demo = charts.with_context(fig, sentence, dt.date(2025, 6, 30), is_demo=True)
    real = charts.with_context(fig, sentence, dt.date(2025, 6, 30), is_demo=False)
    assert fig.to_plotly_json() == before  # the original is untouched
    for out in (demo, real):
        footer = next(a for a in out.layout.annotations if a.name == "context-footer")
        lines = footer.text.split("<br>")
        assert " ".join(lines[:-2]) == sentence  # short lines: it fits a 390 px chart too
        assert lines[-2:] == ["Data as of 30 Jun 2025", "Source: CRI-TAC engagement records"]
        assert max(len(line) for line in lines) <= charts.FOOTER_WIDTH
        assert footer.yref == "paper" and footer.y == 0 and footer.yshift < 0
        assert out.layout.margin.b > (fig.layout.margin.b or 48)
    assert any("SYNTHETIC DEMO DATA" in t for t in annotation_texts(demo))
    assert not any("SYNTHETIC" in t for t in annotation_texts(real))
    assert not any("SYNTHETIC" in t for t in annotation_texts(fig))


def test_with_context_is_applied_once(tiny_con):
    """A report figure already carries its context; drawing it in the app must not add a second
    footer and label."""
    fig = charts.bar_breakdown(metrics.breakdown(tiny_con, Filters(), "topic"), "topic")
    once = charts.with_context(fig, "Engagements requested at any time", dt.date(2025, 6, 30), True)
    twice = charts.with_context(
        once, "Engagements requested at any time", dt.date(2025, 6, 30), True
    )
    assert twice.to_plotly_json() == once.to_plotly_json()
    assert sum("SYNTHETIC" in t for t in annotation_texts(twice)) == 1


def test_modebar_config():
    config = charts.modebar_config("Engagements by topic (FY2024)")
    assert config["displaylogo"] is False
    options = config["toImageButtonOptions"]
    assert options == {"format": "png", "filename": "engagements-by-topic-fy2024", "scale": 2}
    sized = charts.modebar_config("x", width=1600, height=900)["toImageButtonOptions"]
    assert (sized["width"], sized["height"]) == (1600, 900)
    assert charts.modebar_config("!!!")["toImageButtonOptions"]["filename"] == "chart"


# -- static export --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kaleido_server():
    # Kaleido uses BROWSER_PATH when set, else finds Debian's chromium by itself.
    browser = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
    if not os.path.exists(browser):
        reason = f"no chromium at {browser} (apt-get install chromium); Kaleido cannot render"
        if os.environ.get("CRITAC_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CRITAC_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    import kaleido

    pio.defaults.headers = {}
    kaleido.start_sync_server(mathjax=False, silence_warnings=True)
    yield
    kaleido.stop_sync_server(silence_warnings=True)


def all_figures(con) -> dict[str, go.Figure]:
    f = Filters()
    satisfaction = metrics.outcomes_by(con, f, "topic").query("item == 'satisfaction'")
    return {
        "volume_trend": charts.volume_trend(metrics.volume_series(con, f, "month"), "month"),
        "cumulative": charts.cumulative(
            metrics.cumulative_engagements(con, f), metrics.milestones(con, f)
        ),
        "bar_breakdown": charts.bar_breakdown(metrics.breakdown(con, f, "topic"), "topic"),
        "series_by_dimension": charts.series_by_dimension(
            metrics.series_by(con, f, "quarter", "agency_type"), "agency_type", "quarter"
        ),
        "topic_heatmap": charts.topic_heatmap(metrics.topic_by_agency_type(con, f)),
        "state_map": charts.state_map(metrics.engagements_by_state(con, f)),
        "likert_diverging": charts.likert_diverging(metrics.item_outcomes(con, f)),
        "top2_by_segment": charts.top2_by_segment(satisfaction, "topic"),
        "post_vs_follow_up": charts.post_vs_follow_up(metrics.post_vs_follow_up(con, f)),
        "evidence_levels": charts.evidence_levels(
            metrics.levels_of(metrics.post_vs_follow_up(con, f, matched=False))
        ),
        "funnel": charts.funnel(metrics.status_funnel(con, f)),
        "timeliness": charts.timeliness(
            metrics.timeliness(con, f, "assistance_type"), "assistance_type"
        ),
        "backlog": charts.backlog(metrics.backlog_series(con, f)),
        "first_time_vs_repeat": charts.first_time_vs_repeat(metrics.first_time_vs_repeat(con, f)),
        "empty": charts.volume_trend(metrics.volume_series(con, NOBODY, "month"), "month"),
        "with_context": charts.with_context(
            charts.state_map(metrics.engagements_by_state(con, f)), f.describe(), "today", True
        ),
    }


def test_value_labels_outside_their_marks_are_not_cut_at_the_axes(demo_con):
    """A label drawn beside its dot or past its bar (the top row's "92%", a "100%" at the right
    edge) reaches past the plot area; plotly cuts it there unless the trace draws over the axes."""
    outside = []
    for name, fig in all_figures(demo_con).items():
        for trace in fig.data:
            position = getattr(trace, "textposition", None)
            positions = position if isinstance(position, tuple) else (position,)
            beside = (
                trace.type == "scatter"
                and "text" in (trace.mode or "")
                and any(p not in (None, "middle center") for p in positions)
            )
            past = trace.type == "bar" and "outside" in positions
            if beside or past:
                outside.append(name)
                assert trace.cliponaxis is False, name
    assert {"evidence_levels", "bar_breakdown"} <= set(outside)


def test_every_figure_renders_to_png_offline(tiny_con, kaleido_server):
    for name, fig in all_figures(tiny_con).items():
        png = fig.to_image(format="png", width=1200, height=700)
        assert png[:8] == b"\x89PNG\r\n\x1a\n", name
        assert len(png) > 5_000, name


def test_a_count_axis_is_given_a_left_margin_its_labels_fit_in():
    """charts.layout.count_margin: wide enough for the widest tick label plotly can draw (the data
    plus its autorange, or a fixed range's end), so automargin need not draw the chart twice. The
    floor is what Chromium needed here (DejaVu Sans: "300" 65 px, "1,000" 77 px, "15,000" 86 px)."""
    assert count_margin(280)["l"] >= 65
    assert count_margin(950)["l"] >= 77  # its axis reaches 1,000
    assert count_margin(14_500)["l"] >= 86
    assert count_margin(15_000)["l"] - count_margin(14_500)["l"] == 0  # the same label width
    assert count_margin(950, fixed_range=True)["l"] < count_margin(950)["l"]
    widths = [count_margin(top)["l"] for top in (5, 50, 500, 5_000, 50_000, 500_000)]
    assert widths == sorted(set(widths))  # a digit more, a wider margin
    assert count_margin(float("nan")) == count_margin(0) == count_margin(pd.NA)
    assert count_margin(280)["l"] - 65 <= 4  # and little to spare


def test_the_count_axis_charts_carry_their_margin():
    series = pd.DataFrame(
        {
            "period_start": pd.to_datetime(["2023-10-01", "2024-10-01"]),
            "period": ["FY2024", "FY2025"],
            "requests": [1_200, 14_500],
            "engagements": [1_000, 12_000],
            "completed": [900, 11_000],
            "is_partial": [False, True],
        }
    )
    fig = charts.volume_trend.uncached(series, "fiscal_year")
    assert fig.layout.margin.l == count_margin(14_500)["l"]
