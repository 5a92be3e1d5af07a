"""The charts package: every figure builder its modules define (a public function that makes a
``go.Figure`` from data) is exported by ``charts`` and memoised (``figure_cache.memoize``), which a
decorator on each builder has to keep true. Functions that change a figure they are given
(``finish``, ``with_context``, ``in_theme``) have nothing to key a cache on and are not memoised."""

from __future__ import annotations

import inspect
import pkgutil
import typing
from collections.abc import Iterator
from types import ModuleType

import plotly.graph_objects as go

from critac_metrics import charts


def _modules() -> Iterator[ModuleType]:
    for info in pkgutil.iter_modules(charts.__path__, f"{charts.__name__}."):
        yield __import__(info.name, fromlist=["_"])


def _returning_figures(module: ModuleType) -> dict[str, tuple[typing.Any, bool]]:
    """The public functions ``module`` defines that return a ``go.Figure``: name -> (the function
    as the module holds it, whether its first argument is a figure)."""
    out = {}
    for name, value in vars(module).items():
        function = inspect.unwrap(value) if callable(value) else None
        if name.startswith("_") or not inspect.isfunction(function):
            continue
        hints = typing.get_type_hints(function)
        if function.__module__ == module.__name__ and hints.get("return") is go.Figure:
            first = next(iter(inspect.signature(function).parameters), "")
            out[name] = (value, hints.get(first) is go.Figure)
    return out


def test_every_figure_builder_is_exported_and_memoised() -> None:
    found = {name: v for m in _modules() for name, v in _returning_figures(m).items()}
    builders = {name: value for name, (value, takes_figure) in found.items() if not takes_figure}
    assert {"volume_trend", "state_map", "likert_diverging", "empty_figure"} <= set(builders)
    assert {"with_context", "in_theme", "finish"} <= set(found) - set(builders)
    for name, value in builders.items():
        assert getattr(charts, name, None) is value, f"charts.{name} is not its module's builder"
        assert name in charts.__all__
        assert hasattr(value, "uncached"), f"{name} is not memoised (@figure_cache.memoize)"
    for name in set(found) - set(builders):
        assert not hasattr(found[name][0], "uncached"), f"{name} changes a figure: not memoised"
    assert set(charts.MEMOISED) == set(builders)


def test_every_exported_name_exists() -> None:
    assert [name for name in charts.__all__ if not hasattr(charts, name)] == []
