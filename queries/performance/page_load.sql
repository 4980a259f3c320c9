-- ---
-- name: performance/page_load
-- description: Page load time per page - percentiles, Apdex and the median of each load step
-- definition: |
--   Every navigation event in the window counts, cookieless or not (event-level), grouped by
--   the normalized page (or all pages with by=none, or page group with by=group: each tag of the
--   navigation event's own pageTags, as pages/groups defines groups; an event with several tags
--   counts in each group, a repeated tag once, one without tags in '(none)'; the page column then
--   holds the group). The load time is the navigation
--   duration (loadEventEnd - startTime, ms); initiator restricts to full page loads
--   (navigation) or SPA route changes. p50/p75/p90 are exact percentiles with linear
--   interpolation. Apdex uses the CloudWatch RUM bands: satisfied <= 2000 ms, tolerating
--   <= 8000 ms, frustrated > 8000 ms; apdex = (satisfied + tolerating / 2) / loads, 0..1 (the
--   RUM docs also show it x100). The load steps are the medians of the web client's timing
--   fields: DNS lookup, TCP connect, TLS handshake, time to first byte, response download,
--   DOM processing (loadEventStart - responseEnd) and load event handlers; a step no event
--   reports is NULL.
-- params:
--   - name: by
--     type: str
--     default: page
--     choices: [page, none, group]
--     help: Group by page, over all pages, or by page group (pageTags)
--     sql:
--       page: by_page
--       none: by_none
--       group: by_group
--   - {name: initiator, type: str, default: all, choices: [all, navigation, route_change], help: Kind of navigation}
--   - {name: top, type: int, default: 50, min: 1, max: 100000, help: Number of pages to return}
-- columns:
--   - {name: page, type: VARCHAR, meaning: "Normalized page ('(all)' with by=none, the page group with by=group)"}
--   - {name: loads, type: BIGINT, meaning: Navigations with a duration}
--   - {name: p50_ms, type: DOUBLE, meaning: Median load time}
--   - {name: p75_ms, type: DOUBLE, meaning: 75th percentile}
--   - {name: p90_ms, type: DOUBLE, meaning: 90th percentile}
--   - {name: apdex, type: DOUBLE, meaning: (satisfied + tolerating/2) / loads}
--   - {name: satisfied, type: BIGINT, meaning: Loads <= 2000 ms}
--   - {name: tolerating, type: BIGINT, meaning: Loads > 2000 and <= 8000 ms}
--   - {name: frustrated, type: BIGINT, meaning: Loads > 8000 ms}
--   - {name: dns_ms, type: DOUBLE, meaning: Median DNS lookup}
--   - {name: connect_ms, type: DOUBLE, meaning: Median TCP connect}
--   - {name: tls_ms, type: DOUBLE, meaning: Median TLS handshake}
--   - {name: ttfb_ms, type: DOUBLE, meaning: Median time to first byte}
--   - {name: response_ms, type: DOUBLE, meaning: Median response download}
--   - {name: dom_processing_ms, type: DOUBLE, meaning: Median DOM processing}
--   - {name: load_event_ms, type: DOUBLE, meaning: Median load event handlers}
-- ---
-- The `by` parameter picks one of these relations: each row of navigations with its group k.
WITH by_page AS (SELECT *, page AS k FROM navigations),
by_none AS (SELECT *, '(all)' AS k FROM navigations),
tags AS (
    -- by=group: the distinct tags of each event's own pageTags, which the view does not carry
    -- (a tag repeated on one event once)
    SELECT DISTINCT event_id, k
    FROM (SELECT *, unnest(page_tags) AS k FROM (SELECT event_id, page_tags FROM events))
    WHERE k IS NOT NULL
),
-- Each event once per tag, joined by the event id (the deduplication key); one without tags in '(none)'.
by_group AS (SELECT n.*, coalesce(t.k, '(none)') AS k
             FROM navigations AS n LEFT JOIN tags AS t ON t.event_id = n.event_id),
g AS (
    SELECT CAST(k AS VARCHAR) AS page,
           count(*) AS loads,
           quantile_cont(duration, [0.5, 0.75, 0.9]) AS q,
           count(*) FILTER (WHERE apdex_band = 'satisfied') AS satisfied,
           count(*) FILTER (WHERE apdex_band = 'tolerating') AS tolerating,
           count(*) FILTER (WHERE apdex_band = 'frustrated') AS frustrated,
           quantile_cont(dns_time, 0.5) AS dns_ms,
           quantile_cont(connect_time, 0.5) AS connect_ms,
           quantile_cont(tls_time, 0.5) AS tls_ms,
           quantile_cont(time_to_first_byte, 0.5) AS ttfb_ms,
           quantile_cont(response_time, 0.5) AS response_ms,
           quantile_cont(dom_processing_time, 0.5) AS dom_processing_ms,
           quantile_cont(load_event_time, 0.5) AS load_event_ms
    FROM {{by}}
    WHERE duration IS NOT NULL AND ($initiator = 'all' OR initiator_type = $initiator)
    GROUP BY ALL
)
SELECT page, loads, q[1] AS p50_ms, q[2] AS p75_ms, q[3] AS p90_ms,
       (satisfied + tolerating / 2) / loads AS apdex,
       satisfied, tolerating, frustrated,
       dns_ms, connect_ms, tls_ms, ttfb_ms, response_ms, dom_processing_ms, load_event_ms
FROM g
ORDER BY loads DESC, page
LIMIT $top
