"""The selection the metrics count: ``from ... where ...`` over ``engagement_facts`` for a
``Filters`` value, per dimension (``critac_metrics.dimensions``) where asked.

Filter values only ever reach SQL as bound parameters: the only text spliced into SQL is
``Filters.where()``'s fixed clause shape and names and expressions from closed sets (the
dimensions' SQL, the measures each module declares).
"""

from __future__ import annotations

from .. import dimensions
from ..dimensions import Dimension
from ..filters import Filters
from .results import Params


def _selection(filters: Filters, by: str | None = None) -> tuple[str, Params]:
    """``from ... where ...`` over the engagements that match the filters; with a list-valued
    ``by`` dimension, joined to its bridge as ``d`` (one row per engagement and value)."""
    where, params = filters.where()
    bridge = _dimension(by).bridge if by else None
    join = f" join {bridge} d using (row_id)" if bridge else ""
    return f"from engagement_facts{join} where {where}", params


def _summed_sql(
    filters: Filters,
    by: str | None,
    measures: dict[str, str],
    keys: dict[str, str] | None = None,
    where: str = "true",
    having: str = "true",
) -> tuple[str, Params]:
    """SQL for additive ``measures`` (name -> aggregate over engagement rows) per ``value`` of
    ``by`` and per ``keys`` (name -> expression), with ``where`` applied to the engagement rows and
    ``having`` (a condition on the summed measures by name, e.g. ``responses > 0``) to the sums.
    Every measure comes out as a bigint.

    A list-valued ``by`` (topics) adds up per topic set first (35k sets at 1M engagements) and then
    spreads each set's sums over its topics: the same totals as joining every engagement to its
    topics, at a fraction of the rows. Only sums and counts add up this way; distinct counts and
    medians by topic join ``fact_topics`` instead (``_selection``). Any other ``by`` (or none) is
    one aggregation over the engagement rows: a second one over its groups would add up each
    group's single row again, and binding its sums cost more than the scan (the Outcomes page's
    ~100 measures)."""
    source, params = _selection(filters)
    keys = keys or {}
    key_inner = "".join(f", {expression} as {name}" for name, expression in keys.items())
    key_list = "".join(f", {name}" for name in keys)
    set_bridge = _dimension(by).set_bridge if by else None
    if by and set_bridge:
        inner = ", ".join(f"{aggregate} as {name}" for name, aggregate in measures.items())
        outer = ", ".join(f"sum({name})::bigint as {name}" for name in measures)
        per_set = f"select topic_set_id{key_inner}, {inner} {source} and {where} group by all"
        rows = f"({per_set}) g join {set_bridge} d using (topic_set_id)"
        sql = f"select d.{by} as value{key_list}, {outer} from {rows} group by all"
    else:
        dimension = _sql(by) if by else "'All'"
        summed = ", ".join(
            f"({aggregate})::bigint as {name}" for name, aggregate in measures.items()
        )
        sql = f"select {dimension} as value{key_inner}, {summed} {source} and {where} group by all"
    if having != "true":
        sql = f"select * from ({sql}) where {having}"
    return sql, params


def _dimension(name: str) -> Dimension:
    return dimensions.dimension(name)  # a ValueError names the known ones


def _sql(name: str) -> str:
    """The dimension's SQL expression (every breakdown has one)."""
    sql = _dimension(name).sql
    assert sql is not None  # DIMENSIONS holds only breakdowns
    return sql
