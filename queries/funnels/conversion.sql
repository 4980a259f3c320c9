-- ---
-- name: funnels/conversion
-- description: Conversion through an ordered list of pages, per step, within a session
-- definition: |
--   A funnel is an ordered list of page patterns (glob syntax: * any text, ? one character,
--   matched against the normalized page, e.g. /products/*). It is evaluated per session over
--   the session's path (normalized pages in session order with consecutive repeats collapsed);
--   a funnel never crosses sessions. mode=sequential: anything may happen between two steps
--   (PostHog "sequential", Plausible "sequential"); mode=strict: each step must be the very
--   next page of the path (PostHog and Plausible "strict"). Every page matching step 1 is tried
--   as a start; from a start, each next step is its first match after the previous one (strict:
--   the next page only), and with a window every step must come at most `window` after the
--   start (0s: no limit besides the session). A session reaches the furthest step of its best
--   start (ties: the earliest start), whose times are reported. A step written
--   event:<type> (event:com.example.shop.add_to_cart; a glob on the type) is a custom event
--   (events/custom) instead of a page: with such a step the path also holds the session's custom
--   events, ordered with its pages by time (a page before an event of the same second), each
--   event an item of its own (repeats are not collapsed). Per step: sessions = sessions
--   reaching it; conversion_from_previous = sessions / sessions of the previous step (NULL for
--   step 1); conversion_from_first = sessions / sessions of step 1; drop_off = sessions of the
--   previous step - sessions (NULL for step 1); median_time_from_previous_s = median seconds
--   between the previous step and this one (whole-second precision). Only sessions with at
--   least one page view in the window count, as in every session-based query. PostHog's default
--   window is 14 days across sessions. Cookieless sessions are excluded unless
--   include_cookieless is true; coverage is the share of the window's page views in cookie
--   sessions.
-- session_based: true
-- estimate: [sessions, drop_off]
-- params:
--   - {name: steps, type: list, help: "Page patterns or event:<custom type>, in order (e.g. /home,/products/*,event:com.example.shop.add_to_cart,/cart)"}
--   - {name: mode, type: str, default: sequential, choices: [sequential, strict], help: Whether other pages may come between steps}
--   - {name: window, type: duration, default: 0s, help: Maximum time from step 1 to each step (0s = the whole session)}
--   - {name: include_cookieless, type: bool, default: false, help: Include cookieless sessions}
-- columns:
--   - {name: step, type: BIGINT, meaning: 1-based step number}
--   - {name: pattern, type: VARCHAR, meaning: "The step's page pattern"}
--   - {name: sessions, type: BIGINT, meaning: Sessions reaching the step}
--   - {name: conversion_from_previous, type: DOUBLE, meaning: "sessions / previous step's sessions"}
--   - {name: conversion_from_first, type: DOUBLE, meaning: "sessions / step 1's sessions"}
--   - {name: drop_off, type: BIGINT, meaning: "Previous step's sessions - sessions"}
--   - {name: median_time_from_previous_s, type: DOUBLE, meaning: Median seconds from the previous step}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
WITH RECURSIVE
st AS (
    SELECT k, ($steps::VARCHAR[])[k] AS pattern
    FROM range(1, len($steps::VARCHAR[]) + 1) AS r(k)
),
-- A session is keyed by its stored id pair (a UUID hashes and compares faster than its
-- text; exactly one of the two is set) and cookieless, as journey_steps numbers its steps.
-- With an event:<type> step, the path also holds the session's custom events as
-- 'event:<type>' items, ordered with its pages by time (a page before an event of the same
-- second, then the path's order, then the export line); without one, it is journey_steps.
-- js is materialized: the path is read once whichever branch runs.
js AS MATERIALIZED (
    SELECT session_uuid, session_text, cookieless, step, page, event_time
    FROM journey_steps
    WHERE NOT cookieless OR $include_cookieless
),
has_events AS (
    SELECT count(*) > 0 AS yes FROM st WHERE pattern LIKE 'event:%'
),
items AS (
    SELECT session_uuid, session_text, cookieless, page, event_time, 0 AS kind, step AS ord FROM js
    UNION ALL
    SELECT e.session_uuid, e.session_text, e.cookieless, 'event:' || e.event_type, e.event_time, 1, e.source_line
    FROM rumq_events AS e
    WHERE e.event_type NOT LIKE 'com.amazon.rum.%'
      -- only sessions that count (a page view in the window), as journey_steps holds them
      AND EXISTS (SELECT 1 FROM js AS s
                  WHERE s.session_uuid IS NOT DISTINCT FROM e.session_uuid
                    AND s.session_text IS NOT DISTINCT FROM e.session_text AND s.cookieless = e.cookieless)
),
j AS (
    SELECT session_uuid, session_text, cookieless, step, page, event_time
    FROM js WHERE NOT (SELECT yes FROM has_events)
    UNION ALL
    SELECT session_uuid, session_text, cookieless,
           row_number() OVER (PARTITION BY session_uuid, session_text, cookieless
                              ORDER BY event_time, kind, ord) AS step,
           page, event_time
    FROM items WHERE (SELECT yes FROM has_events)
),
walk(session_uuid, session_text, cookieless, start_step, k, step, t0, t) AS (
    SELECT session_uuid, session_text, cookieless, step, 1, step, event_time, event_time
    FROM j
    WHERE page GLOB ($steps::VARCHAR[])[1]
    UNION ALL
    -- The next step: the first page after the previous step that matches the next pattern
    -- (strict: the very next page), within the window. "First" is a NOT EXISTS on an earlier
    -- match, not a min() over a GROUP BY: Spark allows no aggregate over the recursive
    -- reference, and the definition stays one text for DuckDB and Spark (docs/engines.md).
    SELECT w.session_uuid, w.session_text, w.cookieless, w.start_step, w.k + 1, j.step, w.t0, j.event_time
    FROM walk AS w
    JOIN j ON j.session_uuid IS NOT DISTINCT FROM w.session_uuid
          AND j.session_text IS NOT DISTINCT FROM w.session_text
          AND j.cookieless = w.cookieless
          AND j.step > w.step
          AND ($mode = 'sequential' OR j.step = w.step + 1)
          AND j.page GLOB ($steps::VARCHAR[])[w.k + 1]
          AND ($window <= INTERVAL 0 SECOND OR j.event_time <= w.t0 + $window)
    WHERE w.k < len($steps::VARCHAR[])
      AND NOT EXISTS (
          SELECT 1 FROM j AS e
          WHERE e.session_uuid IS NOT DISTINCT FROM w.session_uuid
            AND e.session_text IS NOT DISTINCT FROM w.session_text
            AND e.cookieless = w.cookieless
            AND e.step > w.step AND e.step < j.step
            AND e.page GLOB ($steps::VARCHAR[])[w.k + 1]
            AND ($window <= INTERVAL 0 SECOND OR e.event_time <= w.t0 + $window))
),
attempts AS (
    SELECT session_uuid, session_text, cookieless, start_step, max(k) AS reached FROM walk GROUP BY ALL
),
best AS (
    SELECT session_uuid, session_text, cookieless,
           arg_min(start_step, {'r': -reached, 's': start_step}) AS start_step
    FROM attempts GROUP BY session_uuid, session_text, cookieless
),
timed AS (
    SELECT w.k,
           epoch(w.t) - epoch(lag(w.t) OVER (
               PARTITION BY w.session_uuid, w.session_text, w.cookieless ORDER BY w.k)) AS dt
    FROM walk AS w
    JOIN best AS b ON b.session_uuid IS NOT DISTINCT FROM w.session_uuid
                  AND b.session_text IS NOT DISTINCT FROM w.session_text
                  AND b.cookieless = w.cookieless
                  AND b.start_step = w.start_step
),
per_step AS (
    SELECT st.k, st.pattern, count(timed.k) AS sessions,
           quantile_cont(timed.dt, 0.5) AS median_time_from_previous_s
    FROM st LEFT JOIN timed ON timed.k = st.k
    GROUP BY st.k, st.pattern
)
SELECT k AS step, pattern, sessions,
       sessions / nullif(lag(sessions) OVER (ORDER BY k), 0) AS conversion_from_previous,
       sessions / nullif(first_value(sessions) OVER (ORDER BY k), 0) AS conversion_from_first,
       lag(sessions) OVER (ORDER BY k) - sessions AS drop_off,
       median_time_from_previous_s,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM per_step
ORDER BY step
