-- ---
-- name: data/quality
-- description: Data quality - cookie coverage, rejects, duplicates, event types, client versions, event cap
-- definition: |
--   One row per check, as (check, item, count, share): count is a whole number, share a
--   fraction of the count's whole (NULL where no share applies). Over the window: events;
--   page_views; cookie_coverage = page views in cookie sessions, share of all page views (the
--   coverage of every session-based query); cookieless_event_share = events sent without
--   cookies (nil user id), share of events; events_without_session = events with no session id
--   (nil session UUID, older clients without cookies), share of events; sessions (item cookie /
--   cookieless); sessions_near_event_cap = sessions with at least 190 events, 95% of the web
--   client's default sessionEventLimit of 200 beyond which the browser drops events (exit pages
--   and durations of those sessions may be wrong); max_events_per_session; event_type (item =
--   event name) = events per type, share of events; web_client_version (item = version,
--   arw-script/arw-module) = events per client version, share of events. For the whole
--   dataset, not the window (from the ingest manifest): records_read, duplicates_dropped (same
--   event_id seen again) and rejected_records (see rumq rejects); NULL when the connection does
--   not know the dataset directory.
-- params: []
-- columns:
--   - {name: check, type: VARCHAR, meaning: What is measured}
--   - {name: item, type: VARCHAR, meaning: "Sub-item (event type, client version...) or NULL"}
--   - {name: count, type: BIGINT, meaning: "The count (whole number)"}
--   - {name: share, type: DOUBLE, meaning: "The count as a share of its whole (events, page views), or NULL"}
-- ---
WITH ev AS (
    SELECT count(*) AS events,
           count(*) FILTER (WHERE cookieless) AS cookieless_events,
           count(*) FILTER (WHERE session_id IS NULL) AS no_session
    FROM events
), s AS (
    SELECT count(*) FILTER (WHERE NOT cookieless) AS cookie_sessions,
           count(*) FILTER (WHERE cookieless) AS cookieless_sessions,
           count(*) FILTER (WHERE events >= 190) AS near_cap,
           max(events) AS max_events
    FROM session_stats
), rows AS (
    SELECT 1 AS o, 'events' AS "check", NULL AS item, events::BIGINT AS count, NULL::DOUBLE AS share FROM ev
    UNION ALL SELECT 2, 'page_views', NULL, page_views, NULL FROM cookie_coverage
    UNION ALL SELECT 3, 'cookie_coverage', NULL, cookie_page_views, coverage FROM cookie_coverage
    UNION ALL SELECT 4, 'cookieless_event_share', NULL, cookieless_events, cookieless_events / nullif(events, 0) FROM ev
    UNION ALL SELECT 5, 'events_without_session', NULL, no_session, no_session / nullif(events, 0) FROM ev
    UNION ALL SELECT 6, 'sessions', 'cookie', cookie_sessions, NULL FROM s
    UNION ALL SELECT 6, 'sessions', 'cookieless', cookieless_sessions, NULL FROM s
    UNION ALL SELECT 7, 'sessions_near_event_cap', NULL, near_cap, NULL FROM s
    UNION ALL SELECT 8, 'max_events_per_session', NULL, max_events, NULL FROM s
    UNION ALL SELECT 9, 'records_read', NULL, read, NULL FROM ingest_totals
    UNION ALL SELECT 10, 'duplicates_dropped', NULL, duplicates, NULL FROM ingest_totals
    UNION ALL SELECT 11, 'rejected_records', NULL, rejected, NULL FROM ingest_totals
    UNION ALL SELECT 12, 'event_type', event_name, count(*), count(*) / (SELECT nullif(events, 0) FROM ev)
              FROM events GROUP BY event_name
    UNION ALL SELECT 13, 'web_client_version', concat_ws(' ', web_client, web_client_version), count(*),
              count(*) / (SELECT nullif(events, 0) FROM ev)
              FROM events GROUP BY web_client, web_client_version
)
SELECT "check", item, count, share FROM rows ORDER BY o, count DESC NULLS LAST, item
