-- ---
-- name: errors/rate_per_session
-- description: Share of sessions with JS or HTTP errors, and errors per session, by dimension and time
-- definition: |
--   Per session: js_errors = its JS error events; http_errors = its HTTP events that failed
--   (status >= 400, or no status at all: a network failure). An error session has at least one
--   of either (the console's "sessions with errors"). Per group: sessions, js_error_sessions,
--   http_error_sessions, error_sessions (either), error_session_rate = error_sessions /
--   sessions, errors_per_session_mean and _p95 over js_errors + http_errors of every session
--   (sessions without errors count as 0; exact percentile with linear interpolation). Groups:
--   `dimension` is a session attribute (browser, OS, device and country of the session's
--   events, the entry page, the application version); `bucket` is the hour or day (UTC) the
--   session started. Errors recorded without a session id cannot be attributed and are not
--   counted here (errors/top_js counts them). Only sessions with at least one page view in the
--   window count, as in every session-based query. Summed over the groups, sessions and
--   error_sessions equal sessions/summary's. Cookieless sessions are excluded unless
--   include_cookieless is true; coverage is the share of the window's page views in cookie
--   sessions.
-- session_based: true
-- estimate: [sessions, js_error_sessions, http_error_sessions, error_sessions]
-- params:
--   - name: dimension
--     type: str
--     default: none
--     choices: [none, browser, os, device, country, page, app_version]
--     help: Session attribute to group by
--     sql:
--       none: "'(all)'"
--       browser: browser_name
--       os: os_name
--       device: device_type
--       country: country_code
--       page: "(SELECT e.entry_page FROM session_page_stats AS e WHERE e.session_id = s.session_id AND e.cookieless = s.cookieless)"
--       app_version: application_version
--   - name: bucket
--     type: str
--     default: none
--     choices: [none, hour, day]
--     help: Time bucket of the session start (UTC)
--     sql:
--       none: "CAST(NULL AS TIMESTAMP)"
--       hour: "date_trunc('hour', start_time)"
--       day: "date_trunc('day', start_time)"
--   - {name: include_cookieless, type: bool, default: false, help: Include cookieless sessions}
-- columns:
--   - {name: bucket, type: TIMESTAMP, meaning: Start of the hour or day (NULL without a bucket)}
--   - {name: dimension, type: VARCHAR, meaning: "Value of the dimension ('(all)' without one)"}
--   - {name: sessions, type: BIGINT, meaning: Sessions}
--   - {name: js_error_sessions, type: BIGINT, meaning: Sessions with >= 1 JS error}
--   - {name: http_error_sessions, type: BIGINT, meaning: Sessions with >= 1 failed HTTP request}
--   - {name: error_sessions, type: BIGINT, meaning: Sessions with either}
--   - {name: error_session_rate, type: DOUBLE, meaning: error_sessions / sessions}
--   - {name: errors_per_session_mean, type: DOUBLE, meaning: Mean JS + HTTP errors per session}
--   - {name: errors_per_session_p95, type: DOUBLE, meaning: 95th percentile of errors per session}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
WITH per_session AS (
    -- session_stats has no entry page; only the page dimension looks it up.
    SELECT {{bucket}} AS bucket, CAST({{dimension}} AS VARCHAR) AS dimension,
           js_errors, http_errors, has_error
    FROM session_stats AS s
    WHERE NOT cookieless OR $include_cookieless
)
SELECT bucket, dimension,
       count(*) AS sessions,
       count(*) FILTER (WHERE js_errors > 0) AS js_error_sessions,
       count(*) FILTER (WHERE http_errors > 0) AS http_error_sessions,
       count(*) FILTER (WHERE has_error) AS error_sessions,
       count(*) FILTER (WHERE has_error) / count(*) AS error_session_rate,
       avg(js_errors + http_errors) AS errors_per_session_mean,
       quantile_cont(js_errors + http_errors, 0.95) AS errors_per_session_p95,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM per_session
GROUP BY bucket, dimension
ORDER BY bucket NULLS FIRST, sessions DESC, dimension NULLS LAST
