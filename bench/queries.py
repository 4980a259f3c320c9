"""Query benchmark: every built-in analysis vs a hand-written plain DuckDB equivalent.

Usage:
    python bench/queries.py [--events 20000000] [--out bench/out] [--repeat 9] [--only NAME,...] [--no-compact]

Builds (once; reused when present) a dataset of about ``--events`` events:
``rumq.generate`` writes realistic RUM traffic as gzip JSON lines (7 days, 2
apps, 10% cookieless visits), ``rumq.ingest.ingest`` turns it into the
Parquet dataset and ``rumq compact`` (``rumq.maintenance.compact``) leaves one
file per day and event_name, as recommended after large ingests (skip with
``--no-compact``). The layout measured is printed: files, and the share of
row groups holding a single event_name (those a filter on event_name can
skip). Then, for every built-in query of queries/ (default
parameters; funnels/conversion with three steps of the generated shop), it
times in the same process:

* rumq: ``rumq.runner.run_query`` - the code path of ``rumq run`` and
  ``Dataset.run``: window connection, analysis views, parameter binding,
  result as a Polars DataFrame;
* hand-written: one plain DuckDB statement over ``read_parquet`` of the same
  files computing the same definition directly (no views), also fetched as a
  Polars DataFrame on a fresh connection.

Each side runs ``--repeat`` times; the best wall time and the best process
CPU time (user + system, all DuckDB threads) are reported with their ratios.
On a shared machine the CPU ratio is the steadier of the two. The two results are compared (same rows, floats to 1e-9) so the
baseline really is an equivalent. Nothing here is a test: timings depend on
the machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rumq.pages import page_sql, url_sql  # noqa: E402

# Funnel of the generated shop site (rumq/generate/site.py): home -> product -> cart.
FUNNEL = {"steps": "/,/product/*,/cart"}

P = page_sql("page_id")
U = url_sql("http_url")
HTTP_FAILED = "coalesce(http_status >= 400, true)"
COVERAGE = "(SELECT avg(CASE WHEN cookieless THEN 0.0 ELSE 1.0 END) FROM E WHERE event_name = 'page_view')"


def _pages(extra: str = "") -> str:
    """Cookie-session page views with normalized pages, ordered within the session."""
    return f"""
    m AS (SELECT page_id, {P} AS page FROM (SELECT DISTINCT page_id FROM E
          WHERE event_name = 'page_view' AND page_id IS NOT NULL)),
    o AS (SELECT v.session_id, v.session_uuid AS su, v.session_text AS st, m.page, v.event_time{extra},
                 row_number() OVER w AS seq, lag(m.page) OVER w AS prev,
                 lead(v.event_time) OVER w IS NULL AS is_last
          FROM E AS v LEFT JOIN m USING (page_id)
          WHERE v.event_name = 'page_view' AND NOT v.cookieless
            AND (v.session_uuid IS NOT NULL OR v.session_text IS NOT NULL)
          WINDOW w AS (PARTITION BY v.session_uuid, v.session_text
                       ORDER BY v.interaction NULLS LAST, v.event_time, v.source_line))"""


def _collapsed() -> str:
    return _pages() + """,
    c AS (SELECT session_id, page, event_time, row_number() OVER w AS step, lead(page) OVER w AS nxt
          FROM o WHERE prev IS DISTINCT FROM page WINDOW w AS (PARTITION BY su, st ORDER BY seq))"""


def _sessions() -> str:
    return f"""
    s AS (SELECT coalesce(session_uuid::VARCHAR, session_text) AS session_id,
                 least(min(user_uuid)::VARCHAR, min(user_text)) AS user_id,
                 count(*) FILTER (WHERE event_name = 'page_view') AS pv,
                 epoch(max(event_time)) - epoch(min(event_time)) AS dur,
                 count(*) FILTER (WHERE event_name = 'js_error') AS js,
                 count(*) FILTER (WHERE event_name = 'http' AND {HTTP_FAILED}) AS http,
                 arg_min(page_id, {{'i': coalesce(interaction, 2147483647), 't': event_time, 'l': source_line}})
                     FILTER (WHERE event_name = 'page_view') AS entry_raw,
                 min(browser_name) AS browser, min(device_type) AS device, min(country_code) AS country
          FROM E WHERE (session_uuid IS NOT NULL OR session_text IS NOT NULL) AND NOT cookieless
          GROUP BY session_uuid, session_text HAVING pv > 0)"""


def _audience(col: str, key: str) -> str:
    return f"""WITH {_sessions().strip()},
    a AS (SELECT {key} AS k, count(*) AS sessions, sum(pv) AS page_views, count(*) FILTER (WHERE js + http > 0) AS err
          FROM s GROUP BY k),
    l AS (SELECT {col} AS k, quantile_cont(vital_value, 0.75) AS lcp FROM E
          WHERE event_name = 'lcp' AND NOT cookieless AND session_id IS NOT NULL GROUP BY k)
    SELECT k, coalesce(a.sessions, 0), CAST(coalesce(a.page_views, 0) AS BIGINT), a.err / a.sessions, l.lcp, {COVERAGE}
    FROM a FULL JOIN l USING (k)
    ORDER BY 2 DESC, 3 DESC, k NULLS LAST LIMIT 50"""


HAND: dict[str, str] = {
    "sessions/summary": f"""WITH {_sessions().strip()}
    SELECT count(*), count(DISTINCT user_id), CAST(sum(pv) AS BIGINT), avg(pv), quantile_cont(pv, 0.5),
           quantile_cont(dur, 0.5), quantile_cont(dur, 0.9),
           count(*) FILTER (WHERE pv = 1) / count(*), count(*) FILTER (WHERE js + http > 0) / count(*), {COVERAGE}
    FROM s""",
    "journeys/transitions": f"""WITH {_collapsed().strip()},
    ed AS (SELECT '(entry)' AS f, page AS t, session_id FROM c WHERE step = 1
          UNION ALL
          SELECT page, coalesce(nxt, '(exit)'), session_id FROM c),
    g AS (SELECT f, t, count(DISTINCT session_id) AS sessions, count(*) AS n FROM ed GROUP BY f, t)
    SELECT f, t, sessions, n, n / sum(n) OVER (PARTITION BY f), {COVERAGE}
    FROM g ORDER BY n DESC, f, t LIMIT 50""",
    "journeys/top_paths": f"""WITH {_collapsed().strip()},
    p AS (SELECT session_id, string_agg(page, ' > ' ORDER BY step) FILTER (WHERE step <= 5) AS fp, max(step) AS n
          FROM c GROUP BY session_id),
    g AS (SELECT fp || CASE WHEN n > 5 THEN ' > …' ELSE '' END AS path, least(n, 5) AS len, count(*) AS sessions
          FROM p GROUP BY ALL)
    SELECT path, len, sessions, sessions / sum(sessions) OVER (), {COVERAGE} FROM g
    ORDER BY sessions DESC, path LIMIT 20""",
    "pages/drop_off": f"""WITH {_pages().strip()}
    SELECT page, count(*) AS pv, count(DISTINCT session_id) AS sessions, count(*) FILTER (WHERE is_last) AS exits,
           count(*) FILTER (WHERE is_last) / count(*), count(*) FILTER (WHERE is_last) / count(DISTINCT session_id),
           count(*) FILTER (WHERE seq = 1), count(*) FILTER (WHERE seq = 1 AND is_last), {COVERAGE}
    FROM o GROUP BY page ORDER BY exits DESC, pv DESC, page LIMIT 20""",
    "pages/entry": f"""WITH {_sessions().strip()},
    m AS (SELECT entry_raw, {P.replace('page_id', 'entry_raw')} AS page FROM (SELECT DISTINCT entry_raw FROM s))
    SELECT m.page, count(*) AS n, count(*) FILTER (WHERE pv = 1), count(*) FILTER (WHERE pv = 1) / count(*),
           avg(pv), {COVERAGE}
    FROM s LEFT JOIN m USING (entry_raw) WHERE pv > 0 GROUP BY m.page ORDER BY n DESC, m.page LIMIT 20""",
    "errors/rate_per_session": f"""WITH {_sessions().strip()}
    SELECT CAST(NULL AS TIMESTAMP), '(all)', count(*), count(*) FILTER (WHERE js > 0), count(*) FILTER (WHERE http > 0),
           count(*) FILTER (WHERE js + http > 0), count(*) FILTER (WHERE js + http > 0) / count(*),
           avg(js + http), quantile_cont(js + http, 0.95), {COVERAGE}
    FROM s""",
    "errors/top_js": r"""WITH f AS (
        SELECT error_type, error_message, event_time, session_id,
            regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
                coalesce(error_message, ''),
                'https?://[^\s''"()<>]+', '<url>', 'g'),
                '''[^'']*''|"[^"]*"', '<str>', 'g'),
                '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>', 'g'),
                '\b0x[0-9a-fA-F]+\b', '<hex>', 'g'),
                '\b[0-9a-fA-F]{12,}\b', '<hex>', 'g'),
                '\d+(\.\d+)?', '<n>', 'g') AS pat,
            regexp_extract(error_stack, '(?m)^\s*(at \S.*|[^@\s]*@\S+:\d+(?::\d+)?)\s*$', 1) AS frame,
            error_filename
        FROM E WHERE event_name = 'js_error'
    ), g AS (
        SELECT error_type, pat, error_message, event_time, session_id,
            regexp_replace(coalesce(nullif(regexp_extract(frame, '([^\s(@]+?):\d+(?::\d+)?\)?$', 1), ''),
                error_filename), '[?#].*$', '') AS file,
            CASE WHEN frame = '' OR frame IS NULL THEN NULL
                 WHEN starts_with(frame, 'at ') THEN coalesce(nullif(regexp_extract(frame, '^at (.+?) \(', 1), ''), '<anonymous>')
                 ELSE coalesce(nullif(split_part(frame, '@', 1), ''), '<anonymous>') END AS fn
        FROM f
    )
    SELECT substr(md5(concat_ws('|', error_type, pat, file, fn)), 1, 12) AS fp, error_type, pat, file, fn,
           count(*) AS n, count(DISTINCT session_id), min(event_time), max(event_time), min(error_message)
    FROM g GROUP BY error_type, pat, file, fn ORDER BY n DESC, fp LIMIT 20""",
    "http/errors": f"""WITH m AS (SELECT http_url, {U} AS pattern FROM (SELECT DISTINCT http_url FROM E
          WHERE event_name = 'http' AND http_url IS NOT NULL)),
    g AS (SELECT http_method AS method, m.pattern,
                 CASE WHEN http_status IS NULL THEN 'network' ELSE CAST(http_status // 100 AS VARCHAR) || 'xx' END AS cls,
                 {HTTP_FAILED} AS failed, count(*) AS n, count(DISTINCT session_id) AS sessions
          FROM E LEFT JOIN m USING (http_url) WHERE event_name = 'http' GROUP BY ALL),
    s AS (SELECT *, n / sum(n) OVER (PARTITION BY method, pattern) AS share FROM g)
    SELECT method, pattern, cls, n, sessions, share FROM s WHERE failed
    ORDER BY n DESC, method, pattern, cls LIMIT 50""",
    "performance/web_vitals": f"""WITH m AS (SELECT page_id, {P} AS page FROM (SELECT DISTINCT page_id FROM E
          WHERE event_name IN ('lcp', 'fcp', 'cls', 'inp', 'fid', 'ttfb') AND page_id IS NOT NULL)),
    v AS (SELECT m.page, upper(event_name) AS metric, vital_value AS value,
                 CASE event_name WHEN 'lcp' THEN [2500, 4000] WHEN 'fcp' THEN [1800, 3000] WHEN 'cls' THEN [0.1, 0.25]
                      WHEN 'inp' THEN [200, 500] WHEN 'fid' THEN [100, 300] ELSE [800, 1800] END AS t
          FROM E LEFT JOIN m USING (page_id)
          WHERE event_name IN ('lcp', 'fcp', 'cls', 'inp', 'fid', 'ttfb') AND vital_value IS NOT NULL),
    g AS (SELECT page, metric, count(*) AS n, quantile_cont(value, [0.5, 0.75, 0.9]) AS q,
                 count(*) FILTER (WHERE value <= t[1]) / count(*) AS good,
                 count(*) FILTER (WHERE value > t[1] AND value <= t[2]) / count(*) AS ni,
                 count(*) FILTER (WHERE value > t[2]) / count(*) AS poor
          FROM v GROUP BY page, metric)
    SELECT page, metric, n, q[1], q[2], q[3], good, ni, poor FROM g ORDER BY n DESC, page, metric LIMIT 100""",
    "performance/page_load": f"""WITH m AS (SELECT page_id, {P} AS page FROM (SELECT DISTINCT page_id FROM E
          WHERE event_name = 'navigation' AND page_id IS NOT NULL)),
    g AS (SELECT m.page, count(*) AS n, quantile_cont(duration, [0.5, 0.75, 0.9]) AS q,
                 count(*) FILTER (WHERE duration <= 2000) AS sat,
                 count(*) FILTER (WHERE duration > 2000 AND duration <= 8000) AS tol,
                 count(*) FILTER (WHERE duration > 8000) AS fru,
                 median(dns_time) AS a, median(connect_time) AS b, median(tls_time) AS c,
                 median(time_to_first_byte) AS d, median(response_time) AS e,
                 median(dom_processing_time) AS f, median(load_event_time) AS h
          FROM E LEFT JOIN m USING (page_id)
          WHERE event_name = 'navigation' AND duration IS NOT NULL GROUP BY m.page)
    SELECT page, n, q[1], q[2], q[3], (sat + tol / 2) / n, sat, tol, fru, a, b, c, d, e, f, h
    FROM g ORDER BY n DESC, page LIMIT 50""",
    "audience/browsers": _audience("browser_name", "browser"),
    "audience/devices": _audience("device_type", "device"),
    "audience/countries": _audience("country_code", "country"),
    "funnels/conversion": f"""WITH {_collapsed().strip()},
    a AS (SELECT session_id, step AS s1, event_time AS t1 FROM c WHERE page GLOB '/'),
    b AS (SELECT a.session_id, a.s1, a.t1, min(c.step) AS s2, arg_min(c.event_time, c.step) AS t2
          FROM a JOIN c ON c.session_id = a.session_id AND c.step > a.s1 AND c.page GLOB '/product/*'
          GROUP BY ALL),
    d AS (SELECT b.session_id, b.s1, min(c.step) AS s3, arg_min(c.event_time, c.step) AS t3
          FROM b JOIN c ON c.session_id = b.session_id AND c.step > b.s2 AND c.page GLOB '/cart'
          GROUP BY ALL),
    att AS (SELECT a.session_id, a.s1, a.t1, b.t2, d.t3,
                   CASE WHEN d.s3 IS NOT NULL THEN 3 WHEN b.s2 IS NOT NULL THEN 2 ELSE 1 END AS r
            FROM a LEFT JOIN b USING (session_id, s1) LEFT JOIN d USING (session_id, s1)),
    best AS (SELECT session_id, arg_min({{'t1': t1, 't2': t2, 't3': t3, 'r': r}}, {{'r': -r, 's': s1}}) AS x
             FROM att GROUP BY session_id),
    st AS (SELECT count(*) AS n1, count(*) FILTER (WHERE x.r >= 2) AS n2, count(*) FILTER (WHERE x.r >= 3) AS n3,
                  quantile_cont(epoch(x.t2) - epoch(x.t1), 0.5) FILTER (WHERE x.r >= 2) AS m2,
                  quantile_cont(epoch(x.t3) - epoch(x.t2), 0.5) FILTER (WHERE x.r >= 3) AS m3 FROM best)
    SELECT * FROM (
        SELECT 1 AS step, '/' AS pattern, n1 AS n, NULL::DOUBLE, n1 / nullif(n1, 0), NULL::BIGINT, NULL::DOUBLE, {COVERAGE} FROM st
        UNION ALL SELECT 2, '/product/*', n2, n2 / nullif(n1, 0), n2 / nullif(n1, 0), n1 - n2, m2, {COVERAGE} FROM st
        UNION ALL SELECT 3, '/cart', n3, n3 / nullif(n2, 0), n3 / nullif(n1, 0), n2 - n3, m3, {COVERAGE} FROM st)
    ORDER BY step""",
    "data/quality": """WITH s AS (SELECT session_id, cookieless, count(*) AS n FROM E WHERE session_id IS NOT NULL
          GROUP BY session_id, cookieless HAVING count(*) FILTER (WHERE event_name = 'page_view') > 0),
    pvs AS (SELECT count(*) AS pv, count(*) FILTER (WHERE NOT cookieless) AS cpv,
                   count(*) FILTER (WHERE session_id IS NULL) AS nil_pv FROM E WHERE event_name = 'page_view'),
    ev AS (SELECT count(*) AS n, count(*) FILTER (WHERE cookieless) AS cl, count(*) FILTER (WHERE session_id IS NULL) AS ns FROM E),
    cs AS (SELECT count(*) FILTER (WHERE NOT cookieless) AS c, count(*) FILTER (WHERE cookieless) AS cl FROM s),
    rows AS (
        SELECT 1 AS o, 'events' AS k, NULL AS item, n AS c, NULL::DOUBLE AS sh FROM ev
        UNION ALL SELECT 2, 'page_views', NULL, pv, NULL FROM pvs
        UNION ALL SELECT 3, 'cookie_coverage', NULL, cpv, cpv / nullif(pv, 0) FROM pvs
        UNION ALL SELECT 4, 'cookieless_event_share', NULL, cl, cl / nullif(n, 0) FROM ev
        UNION ALL SELECT 5, 'events_without_session', NULL, ns, ns / nullif(n, 0) FROM ev
        UNION ALL SELECT 6, 'sessions', 'cookie', c, NULL FROM cs
        UNION ALL SELECT 6, 'sessions', 'cookieless', cl + nil_pv, NULL FROM cs, pvs
        UNION ALL SELECT 7, 'sessions_near_event_cap', NULL, count(*) FILTER (WHERE n >= 190), NULL FROM s
        UNION ALL SELECT 8, 'max_events_per_session', NULL, greatest(max(n), (SELECT CASE WHEN nil_pv > 0 THEN 1 END FROM pvs)), NULL FROM s
        UNION ALL SELECT 9, 'records_read', NULL, $read, NULL
        UNION ALL SELECT 10, 'duplicates_dropped', NULL, $duplicates, NULL
        UNION ALL SELECT 11, 'rejected_records', NULL, $rejected, NULL
        UNION ALL SELECT 12, 'event_type', event_name, count(*), count(*) / (SELECT nullif(n, 0) FROM ev) FROM E GROUP BY event_name
        UNION ALL SELECT 13, 'web_client_version', concat_ws(' ', web_client, web_client_version), count(*),
                  count(*) / (SELECT nullif(n, 0) FROM ev) FROM E GROUP BY web_client, web_client_version)
    SELECT k, item, c, sh FROM rows ORDER BY o, c DESC NULLS LAST, item""",
}

# The five built-ins of issue 16, each from its definition (default parameters).
# The window of these benchmarks is the whole dataset, so the users' history
# (their first session ever) is the same sessions as the window's.
HAS_SESSION = "(session_uuid IS NOT NULL OR session_text IS NOT NULL)"
ORDER_KEY = "{'i': coalesce(interaction, 2147483647), 't': event_time, 'l': source_line}"
TAGS = "unnest(CASE WHEN len(list_distinct(page_tags)) > 0 THEN list_distinct(page_tags) ELSE ['(none)'] END)"


def _cookie_sessions(cookieless: bool = False) -> str:
    """Sessions (id pair) with their user and start, at least one page view; cookie ones only unless asked."""
    return f"""
    s AS (SELECT least(min(user_uuid)::VARCHAR, min(user_text)) AS user_id, cookieless, min(event_time) AS start_time
          FROM E WHERE {HAS_SESSION}{'' if cookieless else ' AND NOT cookieless'}
          GROUP BY session_uuid, session_text, cookieless
          HAVING count(*) FILTER (WHERE event_name = 'page_view') > 0)"""


HAND.update({
    "events/custom": """SELECT event_type, NULL::VARCHAR, count(*) AS n, count(DISTINCT session_id),
           count(DISTINCT user_id), NULL::BIGINT, NULL::DOUBLE, NULL::DOUBLE, NULL::DOUBLE, NULL::DOUBLE
    FROM E WHERE event_type NOT LIKE 'com.amazon.rum.%'
    GROUP BY event_type ORDER BY n DESC, event_type LIMIT 50""",
    "pages/groups": f"""WITH pv AS (
        SELECT session_uuid AS su, session_text AS st, page_tags,
               row_number() OVER w = 1 AS is_entry,
               row_number() OVER (PARTITION BY session_uuid, session_text
                                  ORDER BY interaction DESC NULLS FIRST, event_time DESC, source_line DESC) = 1 AS is_exit,
               count(*) OVER (PARTITION BY session_uuid, session_text) AS n
        FROM E WHERE event_name = 'page_view' AND NOT cookieless AND {HAS_SESSION}
        WINDOW w AS (PARTITION BY session_uuid, session_text ORDER BY interaction NULLS LAST, event_time, source_line)),
    err AS (SELECT DISTINCT session_uuid AS su, session_text AS st FROM E
            WHERE NOT cookieless AND {HAS_SESSION}
              AND (event_name = 'js_error' OR (event_name = 'http' AND {HTTP_FAILED}))),
    g AS (SELECT pv.*, err.su IS NOT NULL OR err.st IS NOT NULL AS has_error, {TAGS} AS grp
          FROM pv LEFT JOIN err ON err.su IS NOT DISTINCT FROM pv.su AND err.st IS NOT DISTINCT FROM pv.st),
    per AS (SELECT grp, count(*) AS pv, count(DISTINCT {{'u': su, 't': st}}) AS sessions,
                   count(*) FILTER (WHERE is_entry) AS entries, count(*) FILTER (WHERE is_exit) AS exits,
                   count(*) FILTER (WHERE is_entry AND n = 1) AS bounces,
                   count(DISTINCT {{'u': su, 't': st}}) FILTER (WHERE has_error) AS err_sessions
            FROM g GROUP BY grp),
    lcp AS (SELECT grp, quantile_cont(vital_value, 0.75) AS p75 FROM (
                SELECT {TAGS} AS grp, vital_value FROM E
                WHERE event_name = 'lcp' AND NOT cookieless AND {HAS_SESSION}) GROUP BY grp)
    SELECT per.grp, pv, sessions, entries, exits, bounces, bounces / nullif(entries, 0), err_sessions / sessions,
           lcp.p75, {COVERAGE}
    FROM per LEFT JOIN lcp USING (grp) ORDER BY pv DESC, per.grp LIMIT 50""",
    "sessions/list": f"""WITH s AS (
        SELECT coalesce(session_uuid::VARCHAR, session_text) AS sid,
               least(min(user_uuid)::VARCHAR, min(user_text)) AS user_id,
               min(event_time) AS start_time, epoch(max(event_time)) - epoch(min(event_time)) AS duration_s,
               count(*) FILTER (WHERE event_name = 'page_view') AS pv,
               arg_min_null(page_id, {ORDER_KEY}) FILTER (WHERE event_name = 'page_view') AS entry_raw,
               arg_max_null(page_id, {ORDER_KEY}) FILTER (WHERE event_name = 'page_view') AS exit_raw,
               count(*) FILTER (WHERE event_name = 'js_error') AS js,
               count(*) FILTER (WHERE event_name = 'http' AND {HTTP_FAILED}) AS http,
               min(browser_name) AS b, min(os_name) AS o, min(device_type) AS d, min(country_code) AS c,
               string_agg(DISTINCT domain, ',' ORDER BY domain) AS domains
        FROM E WHERE NOT cookieless AND {HAS_SESSION}
        GROUP BY session_uuid, session_text HAVING pv > 0
        ORDER BY start_time DESC, sid LIMIT 100)
    SELECT sid, user_id, start_time, duration_s, pv, {P.replace('page_id', 'entry_raw')},
           {P.replace('page_id', 'exit_raw')}, js, http, b, o, d, c, domains, {COVERAGE}
    FROM s ORDER BY start_time DESC, sid""",
    "users/retention": f"""WITH {_cookie_sessions().strip()},
    act AS (SELECT DISTINCT user_id, date_trunc('week', start_time) AS p FROM s),
    members AS (SELECT user_id, date_trunc('week', min(start_time)) AS cohort FROM s GROUP BY user_id),
    sizes AS (SELECT cohort, count(*) AS n FROM members GROUP BY cohort),
    grid AS (SELECT cohort, n, unnest(range(cohort, (SELECT max(p) FROM act) + INTERVAL 7 DAY, INTERVAL 7 DAY)) AS ps
             FROM sizes),
    seen AS (SELECT DISTINCT m.cohort, a.p, a.user_id FROM members AS m JOIN act AS a USING (user_id))
    SELECT g.cohort, g.n, row_number() OVER (PARTITION BY g.cohort ORDER BY g.ps) - 1 AS k, g.ps,
           count(seen.user_id), count(seen.user_id) / g.n, {COVERAGE}
    FROM grid AS g LEFT JOIN seen ON seen.cohort = g.cohort AND seen.p = g.ps
    GROUP BY g.cohort, g.n, g.ps ORDER BY g.cohort, k""",
    "users/summary": f"""WITH {_cookie_sessions(cookieless=True).strip()},
    f AS (SELECT user_id, min(start_time) AS first FROM s WHERE NOT cookieless GROUP BY user_id),
    one AS (SELECT count(*) AS n FROM E WHERE event_name = 'page_view' AND NOT {HAS_SESSION}),
    t AS (SELECT count(DISTINCT s.user_id) FILTER (WHERE NOT s.cookieless) AS users, count(DISTINCT f.user_id) AS new,
                 count(*) FILTER (WHERE NOT s.cookieless) AS sessions, count(*) + (SELECT n FROM one) AS all_sessions
          FROM s LEFT JOIN f ON NOT s.cookieless AND f.user_id = s.user_id AND f.first = s.start_time)
    SELECT NULL::TIMESTAMP, users, new, users - new, sessions, sessions / nullif(users, 0), sessions / all_sessions,
           {COVERAGE}
    FROM t""",
})

PARAMS: dict[str, dict[str, str]] = {"funnels/conversion": FUNNEL}


def build(out: Path, events: int) -> Path:
    """Generate and ingest the dataset (skipped when ``out/data`` is complete)."""
    data = out / "data"
    done = out / "built.json"
    if done.is_file() and json.loads(done.read_text()).get("events_target") == events:
        return data
    from rumq.generate import estimate_sessions, generate
    from rumq.ingest import ingest

    generated = out / "generated.json"
    if not generated.is_file():  # a failed ingest keeps the generated input for the next run
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        sessions = estimate_sessions(events)
        t0 = time.perf_counter()
        truth = generate(out / "input", sessions=sessions, days=7, fmt="jsonl", gzip=True, compresslevel=1,
                         workers=2)
        print(f"generated {truth.total['events']:,} events ({sessions:,} sessions) in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
        generated.write_text(json.dumps({"events": truth.total["events"], "sessions": sessions}))
    shutil.rmtree(data, ignore_errors=True)
    t1 = time.perf_counter()
    report = ingest(data, [str(out / "input")])
    t2 = time.perf_counter()
    print(f"ingested {report.written:,} events in {t2 - t1:.0f} s", flush=True)
    shutil.rmtree(out / "input", ignore_errors=True)
    done.write_text(json.dumps({"events_target": events, "written": report.written}))
    return data


def layout(files: list[str]) -> str:
    """How the files are laid out: count, and row groups holding a single event_name."""
    import duckdb

    con = duckdb.connect()
    groups, single = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE stats_min_value = stats_max_value) "
        "FROM parquet_metadata(?) WHERE path_in_schema = 'event_name'", [files]).fetchone()
    con.close()
    return f"{len(files)} files, {single:,} of {groups:,} row groups hold a single event_name"


def _cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _same(a, b) -> bool:
    """Equal frames up to column names, with floats compared to 1e-9 (relative)."""
    if a.shape != b.shape:
        return False
    for ra, rb in zip(a.rows(), b.rows(), strict=True):
        for x, y in zip(ra, rb, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                if not (math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(x) and math.isnan(y))):
                    return False
            elif x != y:
                return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=20_000_000, help="dataset size (events)")
    ap.add_argument("--out", default="bench/out", help="work directory (the dataset is kept for reuse)")
    ap.add_argument("--repeat", type=int, default=9,
                    help="runs per side, alternating; the best is reported (9 outlasts this machine's speed bursts)")
    ap.add_argument("--only", default="", help="comma-separated query names")
    ap.add_argument("--no-compact", action="store_true", help="measure the files as ingest wrote them")
    args = ap.parse_args()

    import duckdb

    from rumq import runner
    from rumq.maintenance import compact
    from rumq.store import Store

    data = build(Path(args.out) / f"queries-{args.events}", args.events)
    if not args.no_compact:
        t0 = time.perf_counter()
        r = compact(data)  # a no-op when the dataset is compacted already
        if r["partitions"]:
            print(f"compacted {r['partitions']} day(s): {r['files_before']} -> {r['files_after']} files in "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    files = Store(data).event_files()
    state = json.loads((data / "_rumq" / "state.json").read_text())
    manifest = {k: sum(int(i.get(k) or 0) for i in state["ingests"]) for k in ("read", "duplicates", "rejected")}
    con = duckdb.connect()
    n_events = con.execute("SELECT count(*) FROM read_parquet(?)", [files]).fetchall()[0][0]
    con.close()
    print(f"dataset: {data} - {n_events:,} events; DuckDB {duckdb.__version__}, {os.cpu_count()} cores", flush=True)
    print(f"layout: {'rumq compact skipped' if args.no_compact else 'after rumq compact'}: {layout(files)}", flush=True)

    names = [n for n in HAND if not args.only or n in args.only.split(",")]
    print(f"{'query':28} {'rumq s':>8} {'hand s':>8} {'ratio':>6} {'rumq cpu':>9} {'hand cpu':>9} "
          f"{'ratio':>6}  same")
    worst = 0.0
    for name in names:
        def ours(name=name):
            return runner.run_query(data, name, PARAMS.get(name, {}), notify=lambda _m: None)

        def hand(name=name):
            c = duckdb.connect()
            try:
                c.execute("SET VARIABLE bench_files = ?", [files]).fetchall()
                # The files hold each id as a (UUID, text) pair (rumq.schema.ID_STORAGE).
                c.execute("CREATE VIEW E AS SELECT *, coalesce(session_uuid::VARCHAR, session_text) AS session_id, "
                          "coalesce(user_uuid::VARCHAR, user_text) AS user_id "
                          "FROM read_parquet(getvariable('bench_files'), hive_partitioning = true)").fetchall()
                sql = HAND[name]
                params = {k: v for k, v in manifest.items() if f"${k}" in sql}
                return c.sql(sql, params=params or None).pl()
            finally:
                c.close()

        best_ours = best_hand = cpu_ours = cpu_hand = math.inf
        res_ours = res_hand = None
        for _ in range(args.repeat):
            t, c = time.perf_counter(), _cpu()
            res_ours = ours()
            best_ours, cpu_ours = min(best_ours, time.perf_counter() - t), min(cpu_ours, _cpu() - c)
            t, c = time.perf_counter(), _cpu()
            res_hand = hand()
            best_hand, cpu_hand = min(best_hand, time.perf_counter() - t), min(cpu_hand, _cpu() - c)
        ratio = best_ours / best_hand
        worst = max(worst, ratio)
        print(f"{name:28} {best_ours:8.3f} {best_hand:8.3f} {ratio:6.2f} {cpu_ours:9.2f} {cpu_hand:9.2f} "
              f"{cpu_ours / cpu_hand:6.2f}  {_same(res_ours, res_hand)}", flush=True)
    print(f"worst wall ratio {worst:.2f} (target <= 1.2; and <= 2 s per query at 20M events)")


if __name__ == "__main__":
    main()
