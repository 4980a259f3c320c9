-- ---
-- name: data/quality
-- description: Data quality - cookie coverage, rejects, duplicates, event types, client versions, event cap
-- definition: |
--   One row per check, as (check, item, value). Over the window: events; page_views;
--   cookie_coverage = share of page views in cookie sessions (the coverage of every
--   session-based query); cookieless_event_share = share of events sent without cookies (nil
--   user id); events_without_session = events with no session id (nil session UUID, older
--   clients without cookies); sessions (item cookie / cookieless); sessions_near_event_cap =
--   sessions with at least 190 events, 95% of the web client's default sessionEventLimit of
--   200 beyond which the browser drops events (exit pages and durations of those sessions may
--   be wrong); max_events_per_session; event_type (item = event name) = events per type;
--   web_client_version (item = version, arw-script/arw-module) = events per client version.
--   For the whole dataset, not the window (from the ingest manifest): records_read,
--   duplicates_dropped (same event_id seen again) and rejected_records (see rumq rejects);
--   NULL when the connection does not know the dataset directory.
-- params: []
-- columns:
--   - {name: check, type: VARCHAR, meaning: What is measured}
--   - {name: item, type: VARCHAR, meaning: "Sub-item (event type, client version...) or NULL"}
--   - {name: value, type: DOUBLE, meaning: The count or share}
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
    SELECT 1 AS o, 'events' AS "check", NULL AS item, events::DOUBLE AS value FROM ev
    UNION ALL SELECT 2, 'page_views', NULL, page_views::DOUBLE FROM cookie_coverage
    UNION ALL SELECT 3, 'cookie_coverage', NULL, coverage FROM cookie_coverage
    UNION ALL SELECT 4, 'cookieless_event_share', NULL, cookieless_events / nullif(events, 0) FROM ev
    UNION ALL SELECT 5, 'events_without_session', NULL, no_session::DOUBLE FROM ev
    UNION ALL SELECT 6, 'sessions', 'cookie', cookie_sessions::DOUBLE FROM s
    UNION ALL SELECT 6, 'sessions', 'cookieless', cookieless_sessions::DOUBLE FROM s
    UNION ALL SELECT 7, 'sessions_near_event_cap', NULL, near_cap::DOUBLE FROM s
    UNION ALL SELECT 8, 'max_events_per_session', NULL, max_events::DOUBLE FROM s
    UNION ALL SELECT 9, 'records_read', NULL, read::DOUBLE FROM ingest_totals
    UNION ALL SELECT 10, 'duplicates_dropped', NULL, duplicates::DOUBLE FROM ingest_totals
    UNION ALL SELECT 11, 'rejected_records', NULL, rejected::DOUBLE FROM ingest_totals
    UNION ALL SELECT 12, 'event_type', event_name, count(*)::DOUBLE FROM events GROUP BY event_name
    UNION ALL SELECT 13, 'web_client_version', concat_ws(' ', web_client, web_client_version), count(*)::DOUBLE
              FROM events GROUP BY web_client, web_client_version
)
SELECT "check", item, value FROM rows ORDER BY o, value DESC, item
