"""Chart figures built once per (builder, data, arguments) and reused, in any process.

Building a Plotly figure is most of the cost of drawing a page (plotly validates every property it
is given); the same result drawn again (another viewer with the same filters, a widget that changes
one chart of a page, a revisit) builds the same figure. ``memoize`` keeps each figure as plain
data (``plain``, already validated) keyed by the builder's name and a hash of its
arguments' contents (DataFrames by ``pd.util.hash_pandas_object`` plus columns, dtypes and shape),
and hands out a new ``go.Figure`` made from it without validating it again, so a caller that changes
its figure changes only its own copy. Arguments it can't hash (anything but DataFrames, Series,
numbers, text, dates, None and tuples/lists/dicts of those) mean no caching for that call.

No Streamlit here: the CLI and the report use the same cache.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, cast

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.io.json import to_json_plotly

MAX_FIGURES = 512  # a figure's dict is 5–60 kB: at most ~30 MB (built and derived figures)
MAX_JSON = 256  # the JSON the dashboard sends of the figures it draws, 5-70 kB each
TAG = "_critac_figure_key"  # on a figure handed out by a memoised builder: its cache key
_LOCK = threading.Lock()
_FIGURES: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
_JSON: OrderedDict[tuple[str, str], str] = OrderedDict()
STATS = {"hits": 0, "misses": 0, "uncached": 0}


P = ParamSpec("P")


class Unhashable(TypeError):
    pass


class Memoised(Protocol[P]):
    """A memoised builder: called like the builder; ``uncached`` is the builder itself."""

    uncached: Callable[P, go.Figure]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> go.Figure: ...


def _feed(h: Any, value: object) -> None:  # h: a hashlib hash
    if value is None or isinstance(value, (bool, int, float, str, dt.date, np.generic)):
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, pd.DataFrame):
        h.update(f"df{value.shape}{list(value.columns)}{list(map(str, value.dtypes))};".encode())
        h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
        h.update(repr(value.index.names).encode())
    elif isinstance(value, pd.Series):
        h.update(f"s{value.shape}{value.name!r}{value.dtype};".encode())
        h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, (tuple, list)):
        h.update(f"{type(value).__name__}{len(value)}(".encode())
        for item in value:
            _feed(h, item)
        h.update(b")")
    elif isinstance(value, dict):
        h.update(f"dict{len(value)}(".encode())
        for key in sorted(value, key=repr):
            _feed(h, key)
            _feed(h, value[key])
        h.update(b")")
    else:
        raise Unhashable(type(value).__name__)


def key(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, str] | None:
    """The cache key of a call, or None when an argument can't be hashed by content."""
    h = hashlib.blake2b(digest_size=20)
    try:
        _feed(h, args)
        _feed(h, kwargs)
    except (Unhashable, TypeError, ValueError):  # e.g. lists inside a DataFrame cell
        return None
    return (name, h.hexdigest())


def memoize(builder: Callable[P, go.Figure]) -> Memoised[P]:
    """``builder`` with its figures cached by the contents of its arguments (see module doc)."""
    name = f"{builder.__module__}.{builder.__qualname__}"

    @functools.wraps(builder)
    def cached(*args: P.args, **kwargs: P.kwargs) -> go.Figure:
        k = key(name, args, kwargs)
        if k is None:
            STATS["uncached"] += 1
            return builder(*args, **kwargs)
        with _LOCK:
            spec = _FIGURES.get(k)
            if spec is not None:
                _FIGURES.move_to_end(k)
                STATS["hits"] += 1
        if spec is None:
            fig = builder(*args, **kwargs)
            spec = plain(fig)
            _store(k, spec)
            setattr(fig, TAG, k)
            return fig
        return _copy(k, spec)

    cached.uncached = builder  # type: ignore[attr-defined]
    return cast("Memoised[P]", cached)


def _store(k: tuple[str, str], spec: dict[str, Any]) -> None:
    with _LOCK:
        STATS["misses"] += 1
        _FIGURES[k] = spec
        while len(_FIGURES) > MAX_FIGURES:
            _FIGURES.popitem(last=False)


def _copy(k: tuple[str, str], spec: dict[str, Any]) -> go.Figure:
    # go.Figure deep-copies the data and layout it is given (``BaseFigure.__init__``), so the
    # figure handed out shares nothing with the cached spec: copying the spec first would copy
    # everything twice (``test_a_changed_figure_does_not_change_the_cache``).
    fig = go.Figure(spec, _validate=False)  # validated when first built
    setattr(fig, TAG, k)
    return fig


def derived(fn: Callable[..., go.Figure], fig: go.Figure, *args: Any) -> go.Figure:
    """``fn(fig, *args)``: a figure made from ``fig`` (e.g. with its context and theme), cached by
    ``fig``'s own cache key and ``args`` when ``fig`` came from a memoised builder (it carries
    ``TAG``), so a figure seen before costs a copy, not ``fn`` again. Without a key (a figure built
    or changed elsewhere: drop its tag with ``untag`` after changing it) ``fn`` simply runs.
    The result carries its own key, so a derived figure can be derived from again."""
    base = getattr(fig, TAG, None)
    k = None if base is None else key(f"{fn.__module__}.{fn.__qualname__}", (base, args), {})
    if k is None:
        return fn(fig, *args)
    with _LOCK:
        spec = _FIGURES.get(k)
        if spec is not None:
            _FIGURES.move_to_end(k)
            STATS["hits"] += 1
    if spec is not None:
        return _copy(k, spec)
    out = fn(fig, *args)
    _store(k, plain(out))
    setattr(out, TAG, k)
    return out


def as_json(fig: go.Figure) -> str:
    """``fig`` as plotly.js's JSON. A figure with a cache key is encoded once, from its cached
    spec (no copy of the figure first, as ``plotly.io.to_json`` makes): a figure drawn again costs
    a lookup."""
    k = getattr(fig, TAG, None)
    if k is None:
        return pio.to_json(fig, validate=False)
    with _LOCK:
        text = _JSON.get(k)
        spec = _FIGURES.get(k) if text is None else None
        if text is not None:
            _JSON.move_to_end(k)
    if text is not None:
        return text
    text = to_json_plotly(spec) if spec is not None else pio.to_json(fig, validate=False)
    with _LOCK:
        _JSON[k] = text
        while len(_JSON) > MAX_JSON:
            _JSON.popitem(last=False)
    return text


def untag(fig: go.Figure) -> go.Figure:
    """``fig`` without its cache key: call after changing a figure a memoised builder returned."""
    if hasattr(fig, TAG):
        object.__delattr__(fig, TAG)
    return fig


def clear() -> None:
    with _LOCK:
        _FIGURES.clear()
        _JSON.clear()
        for k in STATS:
            STATS[k] = 0


def plain(fig: go.Figure) -> dict[str, Any]:
    """A deep copy of ``fig`` as plain data, so later changes to ``fig`` don't reach it. Trace data
    stay numpy arrays, as in ``fig`` (``to_dict()`` would encode them as base64 typed arrays, only
    to be decoded again for Python code that reads a trace)."""
    return {
        "data": [trace.to_plotly_json() for trace in fig.data],
        "layout": fig.layout.to_plotly_json(),
    }
