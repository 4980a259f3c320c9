-- ---
-- name: traffic/over_time
-- description: Page views, sessions, error-session rate and p75 LCP per hour or day
-- definition: |
--   Per UTC hour or day (bucket) of the window: page_views = page view events in the bucket
--   (event-level, cookieless ones included); sessions = sessions that started in the bucket,
--   excluding cookieless sessions unless include_cookieless is true; error_sessions = those
--   sessions with a JS error or a failed HTTP request (status >= 400 or network failure);
--   error_session_rate = error_sessions / sessions; lcp_p75_ms = the exact 75th percentile
--   (linear interpolation) of the LCP events recorded in the bucket (good <= 2500 ms, poor >
--   4000 ms). Buckets without any of these are absent. A report-side query: it lives in the
--   report library reports/queries, which reports/daily.toml and weekly.toml name.
-- session_based: true
-- params:
--   - name: bucket
--     type: str
--     default: hour
--     choices: [hour, day]
--     help: Time bucket (UTC)
--     sql:
--       hour: "'hour'"
--       day: "'day'"
--   - {name: include_cookieless, type: bool, default: false, help: Include cookieless sessions}
-- columns:
--   - {name: bucket, type: TIMESTAMP, meaning: Start of the hour or day (UTC)}
--   - {name: page_views, type: BIGINT, meaning: Page views in the bucket}
--   - {name: sessions, type: BIGINT, meaning: Sessions that started in the bucket}
--   - {name: error_sessions, type: BIGINT, meaning: "Of those, sessions with an error"}
--   - {name: error_session_rate, type: DOUBLE, meaning: error_sessions / sessions}
--   - {name: lcp_p75_ms, type: DOUBLE, meaning: 75th percentile of LCP in the bucket}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
WITH p AS (
    SELECT date_trunc({{bucket}}, event_time) AS bucket, count(*) AS page_views
    FROM page_views GROUP BY ALL
), s AS (
    SELECT date_trunc({{bucket}}, start_time) AS bucket, count(*) AS sessions,
           count(*) FILTER (WHERE has_error) AS error_sessions
    FROM sessions
    WHERE NOT cookieless OR $include_cookieless
    GROUP BY ALL
), l AS (
    SELECT date_trunc({{bucket}}, event_time) AS bucket, quantile_cont(value, 0.75) AS lcp_p75_ms
    FROM web_vitals WHERE metric = 'LCP' AND value IS NOT NULL GROUP BY ALL
)
SELECT bucket,
       coalesce(p.page_views, 0) AS page_views,
       coalesce(s.sessions, 0) AS sessions,
       coalesce(s.error_sessions, 0) AS error_sessions,
       s.error_sessions / s.sessions AS error_session_rate,
       l.lcp_p75_ms,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM p FULL JOIN s USING (bucket) FULL JOIN l USING (bucket)
ORDER BY bucket
