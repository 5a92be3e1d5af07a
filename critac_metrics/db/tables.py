"""The store's tables: the stored tables' DDL, the topic catalogue, and the derived tables every
metric reads (one builder per table, run in order by ``rebuild_derived``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb

from .. import schema
from .connection import scalar

if TYPE_CHECKING:
    import pandas as pd


def _table_ddl(table: schema.Table) -> str:
    cols = []
    for col in table.columns:
        not_null = " NOT NULL" if col.required else ""
        cols.append(f"{col.name} {col.sql_type}{not_null}")
    cols.append(f"PRIMARY KEY ({table.key})")
    return f"CREATE TABLE IF NOT EXISTS {table.name} (\n  " + ",\n  ".join(cols) + "\n)"


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    for table in schema.TABLES.values():
        con.execute(_table_ddl(table))
    con.execute(
        "create table if not exists topics (topic varchar primary key, topic_group varchar not null,"
        " in_catalogue boolean not null)"
    )
    con.execute(
        "create table if not exists imports (import_id integer primary key, imported_at timestamp,"
        " source varchar, files json, rows_by_table json, warnings json, is_demo boolean)"
    )


SIZE_BAND_SQL = """case
    when a.sworn_officers is null then 'Unknown'
    when a.sworn_officers < 50 then '< 50'
    when a.sworn_officers < 250 then '50–249'
    when a.sworn_officers < 1000 then '250–999'
    else '1,000+' end"""


_STATES_SQL = "[" + ", ".join(f"'{code}'" for code in schema.STATES) + "]"  # state_key order


def _region_sql() -> str:
    whens = " ".join(
        f"when '{code}' then '{region}'" for code, region in schema.STATE_REGION.items()
    )
    return f"case a.state {whens} else 'Unknown' end"


def answer_column(wave: str, item: str, answer: int) -> str:
    """The engagement_facts column counting one answer to one item in one wave."""
    return f"{wave}_{item}_{answer}"


DERIVED_VERSION = 9  # bump when rebuild_derived changes shape; older stores are rebuilt on open


def rebuild_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Denormalised tables every metric reads.

    - survey_rollup: per engagement and wave, responses, respondents (responses answering at least
      one item), responses submitted after the data-through date, and the count of each answer to
      each item.
    - engagement_facts: one row per engagement with its agency, flags, topics, day counts and, per
      wave, its responses and answer counts, so no metric needs a join. ``row_id`` numbers the rows
      in request order; ``agency_key`` and ``state_key`` are integers (bitmap distinct counts).
    - topic_sets, set_topics, set_topic_groups: every distinct list of topics an engagement has
      (35k at a million demo engagements), numbered, with its topics and topic groups.
      Sums by topic add up per topic set first and then spread over the set's topics.
    - fact_topics / fact_topic_groups: (value, row_id) for every topic and topic group of every
      engagement, ordered by value, for topic filters (a semi-join) and figures that do not add up
      (distinct agencies, medians) by topic.
    - comment_facts: the survey answers with a comment on an engagement, newest first, with the
      engagement's columns that the comments table shows and the filters read.
    - distinct_agencies(agency_key), distinct_states(state_key): macros counting with a bitmap.
    - store_meta: one row of facts about the whole store (the last day the data covers).
    """
    for build in DERIVED_BUILDERS:
        build(con)


def _build_survey_rollup(con: duckdb.DuckDBPyConnection) -> None:
    item_counts = ",\n".join(
        f"(count(*) filter (where {item} = {answer}))::integer as {item}_{answer}"
        for item in schema.SURVEY_ITEMS
        for answer in range(1, 6)
    )
    any_answer = " or ".join(f"{item} is not null" for item in schema.SURVEY_ITEMS)
    con.execute(f"""
        create or replace table survey_rollup as
        select engagement_id, wave, count(*)::integer as responses,
        (count(*) filter (where {any_answer}))::integer as respondents,
        (count(*) filter (where submitted_on > (select max(greatest(requested_on,
            coalesce(completed_on, requested_on))) from engagements)))::integer as late_responses,
        {item_counts}
        from survey_responses
        group by engagement_id, wave
    """)  # noqa: S608 - only constants from schema.py are interpolated


def _survey_columns() -> str:
    # Each wave's rollup row is joined as sw_<wave> (at most one per engagement): no aggregation
    # over the wide answer columns, which is what made this statement memory-hungry.
    return ", ".join(
        [f"coalesce(sw_{w}.responses, 0)::integer as {w}_responses" for w in schema.WAVES]
        + [
            "(" + " + ".join(f"coalesce(sw_{w}.responses, 0)" for w in schema.WAVES) + ")::integer"
            " as responses"
        ]
        # respondents: responses that answered at least one item; late: submitted after the
        # last day of engagement data (store_meta.data_through)
        + [f"coalesce(sw_{w}.respondents, 0)::integer as {w}_respondents" for w in schema.WAVES]
        + [
            "("
            + " + ".join(f"coalesce(sw_{w}.late_responses, 0)" for w in schema.WAVES)
            + ")::integer as late_responses"
        ]
        + [
            f"coalesce(sw_{w}.{i}_{a}, 0)::integer as {answer_column(w, i, a)}"
            for w in schema.WAVES
            for i in schema.SURVEY_ITEMS
            for a in range(1, 6)
        ]
        + [
            "coalesce("
            + " + ".join(f"sw_{w}.{i}_{a}" for i in schema.SURVEY_ITEMS for a in answers)
            + f", 0)::integer as {w}_{name}"
            for w in ("post",)  # the KPI tile's positive outcome reads the post wave only
            for name, answers in (("answers", range(1, 6)), ("top2", (4, 5)))
        ]
    )


def _survey_joins() -> str:
    return "\n".join(
        f"left join survey_rollup sw_{w} on sw_{w}.engagement_id = e.engagement_id"
        f" and sw_{w}.wave = '{w}'"
        for w in schema.WAVES
    )


def _build_topic_sets(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table topic_sets as
        select (row_number() over (order by topics))::integer as topic_set_id, topics
        from (select distinct topics from engagements)
    """)


def _build_set_topics(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table set_topics as
        select topic_set_id, unnest(topics) as topic from topic_sets order by all
    """)


def _build_set_topic_groups(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table set_topic_groups as
        select distinct s.topic_set_id, t.topic_group
        from set_topics s join topics t using (topic) order by all
    """)


def _build_engagement_facts(con: duckdb.DuckDBPyConnection) -> None:
    not_engaged = ", ".join(f"'{s}'" for s in schema.NOT_ENGAGED)
    survey_columns = _survey_columns()
    survey_joins = _survey_joins()
    # Built in two steps so that no statement holds the survey rollups' hash tables together with
    # the windows and joins of the engagement columns (the peak memory of a large import).
    con.execute(f"""
        create or replace temp table engagement_spine as
        with topic_groups as (
            select topic_set_id, list(topic_group order by topic_group) as topic_groups
            from set_topic_groups group by topic_set_id
        ),
        request_order as (
            -- numbered on the narrow key columns, not on the wide result (windows hold every column)
            select engagement_id,
                (row_number() over (order by requested_on, engagement_id))::integer as row_id
            from engagements
        ),
        agency_keys as (
            select agency_id, (row_number() over (order by agency_id))::integer as agency_key
            from agencies
        ),
        agency_sequence as (
            -- n-th engagement of its agency (requests not accepted are not counted), and n-th
            -- delivered (completed) engagement, by request date
            select engagement_id,
                row_number() over (partition by agency_id order by requested_on, engagement_id)
                    as agency_engagement_seq,
                case when status = 'completed' then row_number() over (
                    partition by agency_id, status = 'completed'
                    order by requested_on, engagement_id) end as agency_delivery_seq
            from engagements
            where status not in ({not_engaged})
        )
        select
            o.row_id, e.engagement_id, e.agency_id, k.agency_key, a.agency_name, a.agency_type, a.state,
            list_position({_STATES_SQL}, a.state)::integer as state_key,
            {_region_sql()} as region,
            a.sworn_officers, {SIZE_BAND_SQL} as size_band,
            e.requested_on,
            year(e.requested_on) + (month(e.requested_on) >= 10)::int as fiscal_year,
            e.status,
            e.status not in ({not_engaged}) as is_engagement,
            e.status = 'completed' as is_completed,
            e.assistance_type, e.delivery_mode, e.provider, e.participants,
            e.topics, e.topics[1] as primary_topic, t.topic_group as primary_topic_group,
            ts.topic_set_id, tg.topic_groups, s.agency_engagement_seq, s.agency_delivery_seq,
            e.started_on, e.completed_on,
            date_diff('day', e.requested_on, e.started_on) as days_to_start,
            date_diff('day', e.started_on, e.completed_on) as days_start_to_completion,
            date_diff('day', e.requested_on, e.completed_on) as days_to_completion
        from engagements e
        join agencies a using (agency_id)
        join agency_keys k using (agency_id)
        join request_order o using (engagement_id)
        left join topics t on t.topic = e.topics[1]
        left join topic_sets ts on ts.topics = e.topics
        left join topic_groups tg on tg.topic_set_id = ts.topic_set_id
        left join agency_sequence s using (engagement_id)
    """)  # noqa: S608 - only constants from schema.py are interpolated
    con.execute(f"""
        create or replace table engagement_facts as
        select e.*, {survey_columns}
        from engagement_spine e
        {survey_joins}
        order by e.row_id
    """)  # noqa: S608 - only constants from schema.py are interpolated
    con.execute("drop table engagement_spine")


def _build_fact_topics(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table fact_topics as
        select topic, row_id from (select unnest(topics) as topic, row_id from engagement_facts)
        order by topic, row_id
    """)


def _build_fact_topic_groups(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table fact_topic_groups as
        select topic_group, row_id
        from (select unnest(topic_groups) as topic_group, row_id from engagement_facts)
        order by topic_group, row_id
    """)


def _build_comment_facts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table comment_facts as
        select s.submitted_on, s.response_id, s.comment, s.satisfaction, s.wave,
            s.respondent_role, f.row_id, f.requested_on, f.completed_on, f.agency_name,
            f.agency_type, f.state, f.primary_topic, f.assistance_type, f.delivery_mode,
            f.responses as engagement_responses
        from survey_responses s join engagement_facts f using (engagement_id)
        where s.comment is not null and s.comment <> '' and f.is_engagement
        order by s.submitted_on desc, s.response_id
    """)


def _build_distinct_macros(con: duckdb.DuckDBPyConnection) -> None:
    # Distinct agencies (and states) as a bitmap over integer keys: about twice as fast as
    # count(distinct). bitstring_agg needs its range as a constant, so the macro is written with
    # this store's agency count (a number read from the database, not user input).
    agency_count = scalar(con, "select greatest(count(*), 1) from agencies")
    for name, key, count in (
        ("distinct_agencies", "agency_key", int(agency_count)),
        ("distinct_states", "state_key", len(schema.STATES)),
    ):
        con.execute(
            f"create or replace macro {name}({key}) as"
            f" coalesce(bit_count(bitstring_agg({key}, 1, {count})), 0)"
        )


def _build_store_meta(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""
        create or replace table store_meta as
        select {DERIVED_VERSION} as derived_version,
            (select max(greatest(requested_on, coalesce(completed_on, requested_on)))
             from engagements) as data_through
    """)  # noqa: S608 - a constant


# One builder per derived table, in the order rebuild_derived runs them: each reads only the stored
# tables and the derived tables built before it.
DERIVED_BUILDERS: tuple[Callable[[duckdb.DuckDBPyConnection], None], ...] = (
    _build_survey_rollup,
    _build_topic_sets,
    _build_set_topics,
    _build_set_topic_groups,
    _build_engagement_facts,
    _build_fact_topics,
    _build_fact_topic_groups,
    _build_comment_facts,
    _build_distinct_macros,
    _build_store_meta,
)


def seed_topics(con: duckdb.DuckDBPyConnection, catalogue: pd.DataFrame) -> None:
    con.register("catalogue_df", catalogue)
    con.execute(
        "insert into topics select topic, topic_group, true from catalogue_df"
        " on conflict do nothing"
    )
    con.unregister("catalogue_df")
