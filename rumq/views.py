"""The analysis views every named query stands on.

``create_views(con)`` runs on a DuckDB connection that already has the
``events`` view (the canonical table of ``rumq.schema``, restricted to the
time window and application by ``rumq.catalog.connect``) and ``rumq_events``
(the same rows with the stored session/user id pairs, which the session
aggregations group by) and adds:

``page_views``, ``sessions``, ``session_stats``, ``session_page_stats``,
``session_pages``, ``journey_steps``,
``transitions``, ``js_errors``, ``http_requests``, ``navigations``,
``web_vitals``, ``resources``, ``cookie_coverage``, the one-row table
``ingest_totals`` (from the dataset manifest), the macros
``rumq_page(p)`` / ``rumq_url(u)`` and the table macro
``rumq_audience(dim, include_cookieless)`` (the audience/* queries) and the
table macro ``rumq_user_first_seen()`` (the users/* queries: each user's
first session over the dataset's whole history, not only the window; from
the window's own sessions when the window is the history).
docs/analyses.md documents every column and definition.

Order within a session. RUM timestamps have whole-second precision, so page
views are ordered by interaction depth (``interaction``, NULLS LAST), then
``event_time``, then the line of the event in its export file
(``source_line``) as the tie-break.

Cookieless traffic. Without cookies the web client sends the nil user id and
no interaction depth, and every page load is a session of its own. Rows keep
``cookieless``; session-based queries filter on it. A page view with no
session id at all (the nil session UUID of pre-1.13 clients) becomes a
one-page session ``page:<source_file>:<source_line>``; other events without a session id
cannot be attributed to a session and count only in event-level views.

A session needs a page view. The session views (``session_stats``,
``session_page_stats``, ``sessions``) hold only sessions with at least one
page view in the window, so every session-based query counts the same
sessions as the page-view views (entries, exits, paths); the events of a
session without one count only in event-level views.

Normalizing a page is a chain of regular expressions, which is expensive per
row; the views normalize each *distinct* raw value once and join the result
back (about 10x faster on real page-id cardinalities).

Importing this module has no side effects and does not import DuckDB.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rumq.pages import PageConfig, install_macros, load_config, page_kept_sql, page_sql, url_sql
from rumq.schema import DERIVED, VITAL_THRESHOLDS

#: CloudWatch RUM Apdex bands on navigation duration (ms).
APDEX_SATISFIED_MS = 2000
APDEX_FRUSTRATED_MS = 8000

#: The web client's default per-session event cap (``sessionEventLimit``).
SESSION_EVENT_LIMIT = 200

#: Views in creation order (later ones use earlier ones).
VIEW_NAMES: tuple[str, ...] = (
    "page_views",
    "cookie_coverage",
    "session_pages",
    "journey_steps",
    "transitions",
    "session_stats",
    "session_page_stats",
    "sessions",
    "session_events",
    "js_errors",
    "http_requests",
    "navigations",
    "web_vitals",
    "resources",
)

# Order of page views inside a session. The tie-break is the line of the event
# in its export file (the order the client sent the events in), not event_id:
# random UUID strings are by far the most expensive column to read, and a
# long source_file string in the sort key slows the window (docs/analyses.md). Two page views
# tie completely only with the same interaction, the same second and the same
# line number in two different files - in practice never, since a session's
# events of one second travel in one batch.
# ORDER_KEY is the same order as one struct for arg_min_null / arg_max_null
# (2^31-1 puts a missing depth last, as NULLS LAST does in _ORDER_BY).
_ORDER_BY = "interaction NULLS LAST, event_time, source_line"
#: The order of events within a session as one struct (for arg_min_null / arg_max_null); rumq.sessions uses it.
ORDER_KEY = "{'i': coalesce(interaction, 2147483647), 't': event_time, 'l': source_line}"
# The value of x at the first (arg_min_null) or last (arg_max_null) page view in
# session order, NULL when it is NULL there: arg_min / arg_max skip rows whose
# value is NULL, so the entry page would otherwise be the first page view *with*
# a page id, which pages/drop_off and the (entry) edges of transitions do not
# count. One aggregate per value (two arg_min and a flag cost 0.4 G instructions
# more at 5M events); Spark's and Trino's min_by/max_by keep NULL values as
# these do (rumq.engines.portable, rumq.engines.trino).
def _first(x: str) -> str:
    return f"arg_min_null({x}, {ORDER_KEY})"


def _last(x: str) -> str:
    return f"arg_max_null({x}, {ORDER_KEY})"


# A page view without a session id is a session of its own, named after its
# place in the export (not its event_id: see _ORDER_BY on why not).
_PSEUDO_SESSION = "'page:' || source_file || ':' || source_line"
# Ingest always sets cookieless (never NULL); reading user_id to re-derive it costs.
_COOKIELESS = "cookieless"
_HTTP_FAILED = "coalesce(http_status >= 400, true)"  # NULL status = network failure
# Session aggregations over every event group by the stored id pair
# (schema.ID_STORAGE: a 16-byte UUID, text only for non-UUID ids), not by the
# derived session_id text; exactly one of the pair is set, so the groups are
# the same. The user of a session is its smallest user id as text, as
# min(user_id) would give: UUIDs order as their canonical text does.
_SESSION_ID = DERIVED["session_id"]
_HAS_SESSION = "(session_uuid IS NOT NULL OR session_text IS NOT NULL)"
# A page view without a session id is a cookieless one-page session by
# definition (so the default cookie filter drops that branch without a scan).
# Over rumq_events: testing the stored pair avoids rendering every UUID as text.
_PV_COOKIELESS = f"(cookieless OR NOT {_HAS_SESSION})"
_MIN_USER = "least(CAST(min(user_uuid) AS VARCHAR), min(user_text))"
# The page-level views carry the pair too (a session without an id has its
# pseudo-session name as session_text), and their windows partition by it:
# sorting 16-byte UUIDs is cheaper than sorting 36-character text. The pair and
# session_id name the same sessions.
_SESSION_KEY = "session_uuid, session_text"
# The distinct page ids of the page views, straight from events (reading
# through the two branches of page_views would also read session_id).
_PAGE_VIEW_IDS = "SELECT DISTINCT page_id AS _raw FROM events WHERE event_name = 'page_view' AND page_id IS NOT NULL"


def _normalized(base: str, raw: str, out: str, expr: str, values: str | None = None) -> str:
    """SELECT every column of CTE ``base`` plus ``out`` = ``expr`` applied to ``raw``, once per distinct value.

    ``values`` is a cheaper query for the distinct raw values (column ``_raw``), when there is one.
    """
    values = values or f"SELECT DISTINCT {raw} AS _raw FROM {base} WHERE {raw} IS NOT NULL"
    # DuckDB cannot estimate how many distinct values there are, guesses about as
    # many as rows, and builds the join's hash table on the rows instead
    # (docs/analyses.md, Performance). Passing the values
    # through one list gives it a small estimate, so it builds on them.
    return f"""
    _m AS (SELECT _raw, {expr.replace('__v__', '_raw')} AS _norm FROM (
           SELECT unnest(list(_raw)) AS _raw FROM ({values})))
    SELECT {base}.*, _m._norm AS {out} FROM {base} LEFT JOIN _m ON {base}.{raw} = _m._raw"""


_PAGE_VIEW = "event_name = 'page_view'"


def _select_pages(sql: str, cfg: PageConfig) -> str:
    """``sql`` with every page-view test narrowed to the page views ``cfg`` keeps."""
    return sql.replace(_PAGE_VIEW, f"({_PAGE_VIEW} AND {page_kept_sql('page_id', cfg)})")


def on_kept_pages(cfg: PageConfig) -> str:
    """`` AND <predicate>``: the event was recorded on a page ``cfg`` keeps (empty without page rules).

    The web client records nothing on a page of ``pagesToExclude`` (or off
    ``pagesToInclude``), so the session aggregations leave out every event
    whose page id the rules leave out, not only the page view: such events
    set no session's start, end, duration, event count or errors. The test
    is the page views' (``page_kept_sql``), on the event's own page id.
    """
    return f" AND {page_kept_sql('page_id', cfg)}" if cfg.selects_pages else ""


def user_first_seen_sql(cfg: PageConfig | None = None) -> str:
    """The body of ``rumq_user_first_seen()`` under ``cfg``'s page rules (the Spark and Trino renderings use it too)."""
    cfg = cfg or PageConfig()
    if not cfg.selects_pages:
        return _USER_FIRST_SEEN_SQL
    return _select_pages(_USER_FIRST_SEEN_SQL.replace(
        f"WHERE {_HAS_SESSION} AND NOT cookieless", f"WHERE {_HAS_SESSION}{on_kept_pages(cfg)} AND NOT cookieless"),
        cfg)


def page_rule_effect(con: Any, cfg: PageConfig) -> tuple[int, int]:
    """(page views ``[pages] exclude / include`` leave out, all page views) in the window of ``con``."""
    kept = page_kept_sql("page_id", cfg)
    removed, total = con.execute(
        f"SELECT count(*) FILTER (WHERE NOT ({kept})), count(*) FROM rumq_events WHERE {_PAGE_VIEW}").fetchall()[0]
    return int(removed), int(total)


def view_sql(cfg: PageConfig | None = None) -> dict[str, str]:
    """Return ``{view name: SELECT statement}`` for the analysis views, in creation order."""
    cfg = cfg or PageConfig()
    page = page_sql("__v__", cfg)
    url = url_sql("__v__", cfg)
    ctx = "application_id, application_version, browser_name, browser_version, os_name, device_type, country_code"
    v: dict[str, str] = {}

    # Two branches: page views of a session, and page views without a session
    # id (each a cookieless one-page session of its own). The second branch's
    # constant cookieless = true lets DuckDB drop it under the default cookie
    # filter, so source_file (a long string) is not even read then.
    pv_cols = f"""page_id AS page_raw, interaction, source_file, source_line, parent_page_id, time_on_parent_page,
               title, referrer, referrer_domain, page_tags, {ctx}"""
    v["page_views"] = f"""
    WITH pv AS NOT MATERIALIZED (
        SELECT event_id, event_time, session_id, user_id, cookieless, {pv_cols}, session_uuid, session_text
        FROM rumq_events WHERE event_name = 'page_view' AND {_HAS_SESSION}
        UNION ALL
        SELECT event_id, event_time, {_PSEUDO_SESSION}, user_id, true, {pv_cols}, NULL, {_PSEUDO_SESSION}
        FROM rumq_events WHERE event_name = 'page_view' AND NOT {_HAS_SESSION}),
    {_normalized('pv', 'page_raw', 'page', page, _PAGE_VIEW_IDS)}"""

    # From the events, not page_views: coverage needs no normalized page.
    v["cookie_coverage"] = f"""
    SELECT avg(CASE WHEN {_PV_COOKIELESS} THEN 0.0 ELSE 1.0 END) AS coverage,
           count(*) AS page_views,
           count(*) FILTER (WHERE NOT {_PV_COOKIELESS}) AS cookie_page_views
    FROM rumq_events WHERE event_name = 'page_view'"""

    # seq: 1-based position among the session's page views; prev_page: the page
    # before; is_last: the session's exit page view. (One window, one sort.)
    # cookieless is constant within a session; having it in PARTITION BY lets
    # DuckDB push the queries' cookie filter below the window.
    v["session_pages"] = f"""
    SELECT session_id, user_id, cookieless, application_id, event_id, event_time, interaction,
           page_raw, page,
           row_number() OVER w AS seq,
           lag(page) OVER w AS prev_page,
           lead(event_time) OVER w IS NULL AS is_last,
           session_uuid, session_text
    FROM page_views
    WINDOW w AS (PARTITION BY {_SESSION_KEY}, cookieless ORDER BY {_ORDER_BY})"""

    # The session path with consecutive repeats of a page collapsed (journeys, funnels).
    # is_last marks the last step: a page view without a page id has a NULL page,
    # so a NULL next_page does not mean the path ends there. The first page view
    # is always a step (its missing prev_page is no repeat of a NULL page).
    v["journey_steps"] = f"""
    SELECT session_id, user_id, cookieless, application_id, page, event_time, seq,
           row_number() OVER w AS step,
           lead(page) OVER w AS next_page,
           lead(event_time) OVER w AS next_time,
           lead(seq) OVER w IS NULL AS is_last,
           session_uuid, session_text
    FROM session_pages
    WHERE seq = 1 OR prev_page IS DISTINCT FROM page
    WINDOW w AS (PARTITION BY {_SESSION_KEY}, cookieless ORDER BY seq)"""

    # Edges of the whole path: (entry) -> first page, page -> next page, last page ->
    # (exit). from_step is the position of from_page (0 for the entry pseudo-page);
    # a query that follows only the first pages of a path cuts on it.
    v["transitions"] = """
    SELECT session_id, user_id, cookieless, session_uuid, session_text,
           CASE WHEN k = 0 THEN 0 ELSE step END AS from_step,
           CASE WHEN k = 0 THEN '(entry)' ELSE page END AS from_page,
           CASE WHEN k = 0 THEN page WHEN is_last THEN '(exit)' ELSE next_page END AS to_page,
           CASE WHEN k = 0 THEN NULL ELSE event_time END AS from_time,
           CASE WHEN k = 0 THEN event_time ELSE next_time END AS to_time
    FROM (SELECT *, unnest(CASE WHEN step = 1 THEN [0, 1] ELSE [1] END) AS k FROM journey_steps)"""

    # One aggregation by the session's id pair and cookieless, like every other
    # session view: a session whose events disagree on cookies (the visitor
    # accepted them mid-session) is a cookieless part and a cookie part. The
    # cookie filter then reaches the scan. Page views without a session id are
    # added as one-page sessions by a second branch whose constant
    # cookieless = true lets DuckDB drop it under the default cookie filter (a
    # computed group key costs more than that branch). No materialized CTE, so
    # DuckDB prunes the aggregates a query does not use. session_stats is
    # sessions without the entry/exit pages.
    # A session counts only with at least one page view in the window (HAVING):
    # one made only of a session_start event, resource timings or errors (or
    # whose page views fall before the window) has no entry page, no path and
    # no exit, and counting it in sessions/summary but in none of the page
    # analyses made their session totals disagree. Its events still count in
    # the event-level views. Under [pages] exclude / include the events recorded
    # on a page left out do not count either (on_kept_pages).
    agg_cols = f"""
               {_MIN_USER} AS user_id,
               min(application_id) AS application_id,
               min(application_version) AS application_version,
               min(event_time) AS start_time,
               max(event_time) AS end_time,
               epoch(max(event_time)) - epoch(min(event_time)) AS duration_s,
               count(*) AS events,
               count(*) FILTER (WHERE event_name = 'page_view') AS page_views,
               count(*) FILTER (WHERE event_name = 'page_view') = 1 AS bounced,
               count(*) FILTER (WHERE event_name = 'js_error') AS js_errors,
               count(*) FILTER (WHERE event_name = 'http') AS http_requests,
               count(*) FILTER (WHERE event_name = 'http' AND {_HTTP_FAILED}) AS http_errors,
               min(browser_name) AS browser_name,
               min(os_name) AS os_name,
               min(device_type) AS device_type,
               min(country_code) AS country_code,
               min(web_client_version) AS web_client_version"""
    one_page = """
               user_id, application_id, application_version, event_time, event_time, 0.0, 1, 1, true,
               0, 0, 0, browser_name, os_name, device_type, country_code, web_client_version"""
    v["session_stats"] = f"""
    SELECT * EXCLUDE (js_errors, http_requests, http_errors, browser_name, os_name, device_type, country_code,
                      web_client_version),
           js_errors, http_requests, http_errors, js_errors + http_errors > 0 AS has_error,
           browser_name, os_name, device_type, country_code, web_client_version
    FROM (
        SELECT {_SESSION_ID} AS session_id, {_COOKIELESS} AS cookieless, {agg_cols}
        FROM rumq_events WHERE {_HAS_SESSION}{on_kept_pages(cfg)}
        GROUP BY session_uuid, session_text, cookieless
        HAVING count(*) FILTER (WHERE event_name = 'page_view') > 0
        UNION ALL
        SELECT {_PSEUDO_SESSION}, true, {one_page}
        FROM rumq_events WHERE event_name = 'page_view' AND NOT {_HAS_SESSION})"""
    # Entry and exit pages come from the page views alone (a tenth of the
    # events), read once: the page views with a session id are one CTE that
    # both gives the distinct pages to normalize and is joined to the
    # normalized pages (DuckDB pipelines it; the queries' cookie filter still
    # reaches the Parquet scan). The pages are joined before the aggregation,
    # so every column here is an aggregate or a projection, which DuckDB drops
    # when a query does not read it: pages/entry computes no exit page (a join
    # after the aggregation kept both; pages/entry at 5M events: 5.2 -> 4.2 G
    # instructions, docs/analyses.md, Performance). Page views without a
    # session id are one-page sessions (second branch, dropped under the
    # default cookie filter: its constant cookieless = true).
    v["session_page_stats"] = f"""
    WITH pv AS MATERIALIZED (
        SELECT session_uuid, session_text, cookieless, page_id, interaction, event_time, source_line
        FROM rumq_events WHERE event_name = 'page_view' AND {_HAS_SESSION}),
    one AS NOT MATERIALIZED (
        SELECT {_PSEUDO_SESSION} AS session_id, page_id
        FROM rumq_events WHERE event_name = 'page_view' AND NOT {_HAS_SESSION}),
    _m AS (SELECT _raw, {page.replace('__v__', '_raw')} AS _norm FROM (
           SELECT unnest(list(_raw)) AS _raw FROM (
               SELECT DISTINCT page_id AS _raw FROM (SELECT page_id FROM pv UNION ALL SELECT page_id FROM one)
               WHERE page_id IS NOT NULL)))
    SELECT {_SESSION_ID} AS session_id, cookieless,
           count(*) AS page_views,
           count(*) = 1 AS bounced,
           {_first("_m._norm")} AS entry_page,
           {_last("_m._norm")} AS exit_page,
           {_first("page_id")} AS entry_page_raw,
           {_last("page_id")} AS exit_page_raw
    FROM pv LEFT JOIN _m ON pv.page_id = _m._raw
    GROUP BY session_uuid, session_text, cookieless
    UNION ALL
    SELECT session_id, true, 1, true, _m._norm, _m._norm, page_id, page_id
    FROM one LEFT JOIN _m ON one.page_id = _m._raw"""

    v["sessions"] = """
    SELECT s.session_id, s.cookieless, s.user_id, s.application_id, s.application_version,
           s.start_time, s.end_time, s.duration_s, s.events, s.page_views,
           p.entry_page, p.exit_page, p.entry_page_raw, p.exit_page_raw,
           s.bounced, s.js_errors, s.http_requests, s.http_errors, s.has_error,
           s.browser_name, s.os_name, s.device_type, s.country_code, s.web_client_version
    FROM session_stats AS s
    LEFT JOIN session_page_stats AS p ON p.session_id = s.session_id AND p.cookieless = s.cookieless"""

    # The events the session aggregation reads, one row each, with the session's
    # id as the session views name it (the pseudo id for a page view without
    # one): events with a session id on pages the rules keep (on_kept_pages),
    # and page views without a session id. A query that reads a session's
    # events beyond its aggregates (sessions/list's domains) reads them here,
    # so an event on a page left out adds nothing there either. Sessions
    # without a page view in the window are here too: join to session_stats.
    ev_cols = "event_id, event_time, event_name, user_id, application_id, page_id, domain, source_file, source_line"
    v["session_events"] = f"""
    SELECT session_id, cookieless, {ev_cols}, session_uuid, session_text
    FROM rumq_events WHERE {_HAS_SESSION}{on_kept_pages(cfg)}
    UNION ALL
    SELECT {_PSEUDO_SESSION}, true, {ev_cols}, NULL, {_PSEUDO_SESSION}
    FROM rumq_events WHERE event_name = 'page_view' AND NOT {_HAS_SESSION}"""

    v["js_errors"] = f"""
    WITH e AS NOT MATERIALIZED (
        SELECT event_id, event_time, session_id, user_id, {_COOKIELESS} AS cookieless,
               page_id AS page_raw, error_type, error_message, error_stack, error_filename,
               error_lineno, error_colno, {ctx}
        FROM events WHERE event_name = 'js_error'),
    {_normalized('e', 'page_raw', 'page', page)}"""

    v["http_requests"] = f"""
    WITH h AS NOT MATERIALIZED (
        SELECT event_id, event_time, session_id, user_id, {_COOKIELESS} AS cookieless,
               page_id AS page_raw, http_method AS method, http_url AS url,
               http_status AS status,
               CASE WHEN http_status IS NULL THEN 'network'
                    ELSE CAST(http_status // 100 AS VARCHAR) || 'xx' END AS status_class,
               {_HTTP_FAILED} AS failed,
               http_status_text AS status_text, http_error_type AS error_type,
               http_error_message AS error_message, trace_id, {ctx}
        FROM events WHERE event_name = 'http'),
    {_normalized('h', 'url', 'url_pattern', url)}"""

    v["navigations"] = f"""
    WITH n AS NOT MATERIALIZED (
        SELECT event_id, event_time, session_id, user_id, {_COOKIELESS} AS cookieless,
               page_id AS page_raw, initiator_type, navigation_type, duration,
               CASE WHEN duration <= {APDEX_SATISFIED_MS} THEN 'satisfied'
                    WHEN duration <= {APDEX_FRUSTRATED_MS} THEN 'tolerating'
                    WHEN duration IS NOT NULL THEN 'frustrated' END AS apdex_band,
               redirect_time, dns_time, connect_time, tls_time, time_to_first_byte, response_time,
               dom_interactive, dom_content_loaded, dom_complete, dom_processing_time,
               load_event_time, transfer_size, {ctx}
        FROM events WHERE event_name = 'navigation'),
    {_normalized('n', 'page_raw', 'page', page)}"""

    rating = " ".join(
        f"WHEN event_name = '{m}' THEN CASE WHEN vital_value <= {good!r} THEN 'good' "
        f"WHEN vital_value <= {poor!r} THEN 'needs-improvement' ELSE 'poor' END"
        for m, (good, poor) in VITAL_THRESHOLDS.items()
    )
    names = ", ".join(f"'{m}'" for m in VITAL_THRESHOLDS)
    v["web_vitals"] = f"""
    WITH w AS NOT MATERIALIZED (
        SELECT event_id, event_time, session_id, user_id, {_COOKIELESS} AS cookieless,
               page_id AS page_raw, upper(event_name) AS metric, vital_value AS value,
               CASE WHEN vital_value IS NULL THEN NULL {rating} END AS rating, {ctx}
        FROM events WHERE event_name IN ({names})),
    {_normalized('w', 'page_raw', 'page', page)}"""

    v["resources"] = f"""
    WITH r AS NOT MATERIALIZED (
        SELECT event_id, event_time, session_id, user_id, {_COOKIELESS} AS cookieless,
               page_id AS page_raw, target_url AS url, file_type, initiator_type, duration,
               transfer_size, {ctx}
        FROM events WHERE event_name = 'resource'),
    {_normalized('r', 'url', 'url_pattern', url)}"""
    if cfg.selects_pages:
        # [pages] exclude / include: a page view left out is no page view for any view (and the
        # session aggregation above leaves out every event of its page: on_kept_pages).
        v = {name: _select_pages(sql, cfg) for name, sql in v.items()}
    return v


# One definition for audience/browsers, /devices and /countries. dim names a
# column that session_stats and events both have (browser_name, os_name,
# device_type, country_code, application_id, ...); COLUMNS picks it by exact
# name, and the query files pass it as a constant. Sessions, their page views
# and error sessions come from session_stats (the session's smallest value,
# the same cookie filter as every session-based query), so they add up to
# sessions/summary's; LCP events are grouped by their own value, under the
# same cookie filter (an event without a session id counts as cookieless, as
# its page view does). The two sides meet by grouping their union on k, not by
# a join: a join never matches NULL with NULL, so the sessions without the
# value and the LCP events without it made two rows (audience/countries
# showed NULL | 356 sessions | no LCP and NULL | 0 sessions | LCP 2968).
# GROUP BY puts NULLs in one group on every engine (a null-safe join key
# would need IS NOT DISTINCT FROM in a FULL JOIN, which Trino handles
# unevenly); each side has one row per k, so max() is that row's value.
#: The table macro of the audience/* queries (``AUDIENCE_MACRO``).
AUDIENCE = "rumq_audience"
AUDIENCE_MACRO = """
CREATE OR REPLACE MACRO rumq_audience(dim, include_cookieless) AS TABLE
WITH s AS (
    SELECT COLUMNS(lambda c: c = dim) AS k, count(*) AS sessions, sum(page_views) AS page_views,
           count(*) FILTER (WHERE has_error) AS error_sessions
    FROM session_stats
    WHERE NOT cookieless OR include_cookieless
    GROUP BY k
), l AS (
    SELECT COLUMNS(lambda c: c = dim) AS k, quantile_cont(vital_value, 0.75) AS lcp_p75_ms
    FROM events
    WHERE event_name = 'lcp' AND (include_cookieless OR NOT (cookieless OR session_id IS NULL))
    GROUP BY k
), u AS (
    SELECT k, sessions, page_views, error_sessions, NULL AS lcp_p75_ms FROM s
    UNION ALL
    SELECT k, NULL, NULL, NULL, lcp_p75_ms FROM l
)
SELECT k,
       coalesce(max(sessions), 0) AS sessions,
       CAST(coalesce(max(page_views), 0) AS BIGINT) AS page_views,
       max(error_sessions) / max(sessions) AS error_session_rate,
       max(lcp_p75_ms) AS lcp_p75_ms,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM u
GROUP BY k"""


#: The table macro over the whole history (every file up to the window's end,
#: not only the window's): one row per user id of a cookie session with its
#: first session's start and number of sessions. Sessions are counted as
#: session_stats counts them (an id pair and cookieless, at least one page
#: view); the window's --app applies. Materialized once per connection, before
#: the connection is restricted to the window's files. When the window is the
#: history (``_window_is_history``) it comes from the window's own sessions
#: instead, read once with the statement's (``_user_first_seen``).
USER_FIRST_SEEN = "rumq_user_first_seen"
_USER_FIRST_SEEN_SQL = f"""
WITH s AS (
    SELECT {_MIN_USER} AS user_id, min(event_time) AS start_time
    FROM read_parquet(getvariable('rumq_history_files'), hive_partitioning = true)
    WHERE {_HAS_SESSION} AND NOT cookieless
      AND (getvariable('rumq_app') IS NULL OR application_id = getvariable('rumq_app'))
      AND (getvariable('rumq_until') IS NULL OR event_time < getvariable('rumq_until'))
    GROUP BY session_uuid, session_text
    HAVING count(*) FILTER (WHERE event_name = 'page_view') > 0
)
SELECT user_id, min(start_time) AS first_seen, count(*) AS sessions_ever
FROM s WHERE user_id IS NOT NULL GROUP BY user_id"""


#: The columns of the view session_stats, in order (a test checks them against the view).
SESSION_STATS_COLUMNS: tuple[str, ...] = (
    "session_id", "cookieless", "user_id", "application_id", "application_version", "start_time", "end_time",
    "duration_s", "events", "page_views", "bounced", "js_errors", "http_requests", "http_errors", "has_error",
    "browser_name", "os_name", "device_type", "country_code", "web_client_version",
)
#: The session columns first-seen needs, and all the users/* queries read of session_stats.
_SESSION_STARTS = ("user_id", "cookieless", "start_time")
#: From the window's sessions, when the window is the history: the same rows as _USER_FIRST_SEEN_SQL
#: (the cookie sessions of session_stats are its sessions; see _window_is_history).
_FIRST_SEEN_FROM_WINDOW_SQL = """
SELECT user_id, min(start_time) AS first_seen, count(*) AS sessions_ever
FROM _rumq_session_starts WHERE NOT cookieless AND user_id IS NOT NULL GROUP BY user_id"""


def _user_first_seen(con: Any, data_dir: str | os.PathLike[str] | None, cfg: PageConfig,
                     statement: str | None = None) -> set[str]:
    """Create ``rumq_user_first_seen()`` over every event file up to the window's end.

    When the window is the history (``_window_is_history``), the sessions are
    the window's own: one scan of the window's sessions (``_rumq_session_starts``)
    gives first-seen, and when ``statement`` reads session_stats only through
    those columns (``_reads_only_session_starts``), session_stats becomes that
    table too, so the statement and first-seen read the files once (the
    users/* queries: one scan instead of two).

    Returns:
        The analysis views it created: ``{"session_stats"}`` in that case, else none.
    """
    from rumq.catalog import committed_state, event_files, window_dates
    from rumq.store import Store

    since, until, stratum = con.execute(
        "SELECT getvariable('rumq_since'), getvariable('rumq_until'), getvariable('rumq_stratum') IS NOT NULL"
    ).fetchone()
    store = Store(data_dir) if data_dir is not None else None
    state = committed_state(store) if store is not None and store.exists() else None
    files = event_files(store, None, window_dates(None, until)[1], state) if state is not None else []
    table = "_rumq_user_first_seen"
    made: set[str] = set()
    if files and not stratum and _window_is_history(since, state):
        con.execute("CREATE OR REPLACE TEMP TABLE _rumq_session_starts AS "
                    f"SELECT {', '.join(_SESSION_STARTS)} FROM ({view_sql(cfg)['session_stats']})").fetchall()
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {_FIRST_SEEN_FROM_WINDOW_SQL}").fetchall()
        if statement is not None and _reads_only_session_starts(con, statement):
            con.execute("CREATE OR REPLACE VIEW session_stats AS SELECT * FROM _rumq_session_starts").fetchall()
            made.add("session_stats")
    elif files:
        con.execute("SET VARIABLE rumq_history_files = ?::VARCHAR[]", [files]).fetchall()
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {user_first_seen_sql(cfg)}").fetchall()
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (user_id VARCHAR, first_seen TIMESTAMP, "
                    "sessions_ever BIGINT)").fetchall()
    con.execute(f"CREATE OR REPLACE MACRO {USER_FIRST_SEEN}() AS TABLE SELECT * FROM {table}").fetchall()
    return made


def _window_is_history(since: Any, state: Any) -> bool:
    """Whether the window's events are the history's: no lower bound, or one at or before the dataset's first day.

    The history is every event before the window's end, under the same --app;
    files are partitioned by the UTC date of event_time, so a --since at or
    before midnight of the first day cuts no event and the window's files are
    the history's. (A --since later in the first day keeps the history scan:
    telling it apart would cost a read.) A window restricted to sampling keys
    (--estimate) is never the history.
    """
    from datetime import datetime, time

    if since is None:
        return True
    first = min(f["date"] for f in state.files)
    return bool(since <= datetime.combine(datetime.fromisoformat(first).date(), time()))


def _reads_only_session_starts(con: Any, sql: str) -> bool:
    """Whether ``sql`` reads nothing of session_stats but the columns ``_SESSION_STARTS``.

    Decided on DuckDB's parse tree, conservatively: no ``*`` or ``COLUMNS()``
    (a star would see fewer columns), no positional reference or NATURAL join
    (their meaning depends on the columns there are), no column named like
    another session_stats column, and no reference to a session_stats row as a
    whole (its name or alias as a column); the views that read session_stats
    (sessions, rumq_audience) read other columns. A statement that passes and
    still names another column fails to bind, it is never answered from fewer
    columns.
    """
    tree = _parse(con, sql)
    if tree is None:
        return False
    others = set(SESSION_STATS_COLUMNS) - set(_SESSION_STARTS)
    names = {"session_stats"}
    # The views and macros that read session_stats, directly or not; and the
    # table functions that read a relation named at run time.
    refused = {"query_table", "query"}
    while len(grown := refused | {n for n, d in DEPENDENCIES.items() if d & (refused | names)}) > len(refused):
        refused = grown
    stack: list[Any] = [tree]
    columns: list[list[str]] = []
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            kind = node.get("type")
            if kind in ("STAR", "POSITIONAL_REFERENCE", "SHOW_REF") or node.get("class") == "STAR":
                return False
            if kind == "JOIN":
                if node.get("ref_type") not in ("REGULAR", "CROSS"):
                    return False
                columns += [[c] for c in node.get("using_columns") or []]
            elif kind == "BASE_TABLE":
                table = str(node.get("table_name")).lower()
                if table in refused:
                    return False
                if table == "session_stats" and node.get("alias"):
                    names.add(str(node["alias"]).lower())
            elif kind == "TABLE_FUNCTION" and str((node.get("function") or {}).get("function_name")).lower() in refused:
                return False
            elif kind == "COLUMN_REF":
                columns.append([str(c).lower() for c in node.get("column_names") or []])
            stack += node.values()
        elif isinstance(node, list):
            stack += node
    for parts in columns:
        if parts and (parts[-1] in others or (len(parts) == 1 and parts[0] in names)):
            return False
    return True


def views_for(con: Any, sql: str) -> set[str] | None:
    """The analysis views a statement needs: those it reads, and the views those read.

    The statement is parsed by DuckDB (``json_serialize_sql``) and its table
    references collected; ``rumq_audience`` brings the views of its
    definition. None (create every view) when the statement does not parse
    here: then executing it reports the error.
    """
    names = _relations(con, sql)
    if names is None:
        return None
    return views_for_relations(names)


def views_for_relations(names: set[str]) -> set[str]:
    """The analysis views (and rumq_user_first_seen, rumq_audience, ingest_totals) needed by a statement
    that reads the tables ``names`` (``_relations``)."""
    todo, seen = [n for n in names if n in DEPENDENCIES], set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += DEPENDENCIES[name]
    return (seen & (set(VIEW_NAMES) | {USER_FIRST_SEEN, AUDIENCE})) | (set(names) & {INGEST_TOTALS})


#: The one-row table of the manifest's ingest counts (``_ingest_totals``).
INGEST_TOTALS = "ingest_totals"

#: The scalar macros of ``rumq.pages.install_macros``: for ad-hoc SQL, no view uses them.
MACROS = ("rumq_page", "rumq_url")


def calls_macros(sql: str) -> bool:
    """Whether ``sql`` may call ``MACROS``: it names one (function names are case-insensitive)."""
    low = sql.lower()
    return any(m in low for m in MACROS)


#: {view or table macro: the analysis views its definition reads}; a test
#: checks it against the definitions (parsed by DuckDB).
DEPENDENCIES: dict[str, frozenset[str]] = {
    "page_views": frozenset(),
    "cookie_coverage": frozenset(),
    "session_pages": frozenset({"page_views"}),
    "journey_steps": frozenset({"session_pages"}),
    "transitions": frozenset({"journey_steps"}),
    "session_stats": frozenset(),
    "session_page_stats": frozenset(),
    "sessions": frozenset({"session_stats", "session_page_stats"}),
    "session_events": frozenset(),
    "js_errors": frozenset(),
    "http_requests": frozenset(),
    "navigations": frozenset(),
    "web_vitals": frozenset(),
    "resources": frozenset(),
    "rumq_audience": frozenset({"session_stats", "cookie_coverage"}),
    "rumq_user_first_seen": frozenset(),
}


def _parse(con: Any, sql: str) -> dict[str, Any] | None:
    """DuckDB's parse tree of ``sql`` (``json_serialize_sql``), or None if it does not serialize."""
    import duckdb

    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    except (duckdb.Error, ValueError):
        return None
    return None if not isinstance(tree, dict) or tree.get("error") else tree


def _relations(con: Any, sql: str) -> set[str] | None:
    """Names of the tables and table functions ``sql`` reads (CTE names included), or None if it does not parse."""
    tree = _parse(con, sql)
    if tree is None:  # DuckDB cannot serialize it: be safe, create everything
        return None
    out: set[str] = set()
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                out.add(str(node.get("table_name")))
            elif node.get("type") == "TABLE_FUNCTION":
                fn = node.get("function") or {}
                out.add(str(fn.get("function_name")))
            stack += node.values()
        elif isinstance(node, list):
            stack += node
    return out


def create_views(
    con: Any,
    *,
    pages: PageConfig | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    only: set[str] | None = None,
    statement: str | None = None,
    macros: bool = True,
) -> None:
    """Create the analysis views and macros on ``con`` (which must have ``events``).

    Args:
        con: a DuckDB connection with the ``events`` view.
        pages: the page normalization config; found with
            ``rumq.pages.load_config(data_dir=data_dir)`` when omitted.
        data_dir: the dataset directory, where a ``rumq.toml`` may live.
        only: create just these views (``views_for(sql)``: what a statement
            needs, ``ingest_totals`` and ``rumq_audience`` included when it reads them); None creates
            all. Creating a view binds it against the window's files, about 5 ms each.
        macros: create ``rumq_page(p)`` and ``rumq_url(u)`` (False when the
            statement does not name them: ``calls_macros``).
        statement: the statement ``only`` was found for; when it reads
            ``rumq_user_first_seen()`` and the window is the history, it may let
            session_stats be read once (``_user_first_seen``).
    """
    if data_dir is None:
        data_dir = _dataset_dir(con)
    cfg = pages if pages is not None else load_config(data_dir=data_dir)
    if macros:
        install_macros(con, cfg)
    # First-seen first: it reads no analysis view, and when it makes session_stats a table of
    # the statement's session starts, binding the full view (5 ms) would be wasted.
    made: set[str] = set()
    if only is None or USER_FIRST_SEEN in only:
        made = _user_first_seen(con, data_dir, cfg, statement if only is not None else None)
    for name, sql in view_sql(cfg).items():
        if (only is None or name in only) and name not in made:
            con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}").fetchall()
    # Only for a statement that calls it: DuckDB binds a table macro's body when
    # it is created (5 ms of users/retention's, which never calls it).
    if only is None or AUDIENCE in only:
        con.execute(AUDIENCE_MACRO).fetchall()
    if only is None or INGEST_TOTALS in only:
        _ingest_totals(con, data_dir)


def _dataset_dir(con: Any) -> Path | None:
    """The dataset directory behind ``events``, from the file list the catalog set, if any."""
    import duckdb

    try:
        files = con.execute("SELECT getvariable('rumq_files')").fetchone()[0]
    except duckdb.Error:
        return None
    if not files:
        return None
    # <data>/events/event_date=YYYY-MM-DD/part.parquet, on disk or at an s3:// URL
    head, sep, _ = str(files[0]).rpartition("/events/")
    return (head if head.startswith("s3://") else Path(head)) if sep else None


def _ingest_totals(con: Any, data_dir: str | os.PathLike[str] | None) -> None:
    """Create the one-row table ``ingest_totals`` from the dataset manifest (NULLs if unknown).

    The counts cover every ingest of the dataset, not the time window.
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE ingest_totals AS SELECT ?::BIGINT AS ingests, ?::BIGINT AS read, "
        "?::BIGINT AS written, ?::BIGINT AS duplicates, ?::BIGINT AS rejected",
        ingest_totals(data_dir),
    ).fetchall()


def ingest_totals(data_dir: str | os.PathLike[str] | None) -> list[int | None]:
    """``[ingests, read, written, duplicates, rejected]`` over every ingest of the dataset (Nones if unknown)."""
    from rumq.store import Store

    store = Store(data_dir) if data_dir is not None else None
    if store is None or not store.exists():
        return [None] * 5
    from rumq.catalog import committed_state

    ingests = committed_state(store).ingests  # a damaged or foreign state raises DatasetError
    return [len(ingests)] + [
        sum(int(i.get(k) or 0) for i in ingests) for k in ("read", "written", "duplicates", "rejected")
    ]
