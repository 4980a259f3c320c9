-- ---
-- name: sessions/summary
-- description: Sessions, users, page views, pages per session, duration, bounce and error rates
-- definition: |
--   A session is one RUM session id (the web client starts a new one after 30 minutes without
--   events, like Plausible, Matomo and PostHog; Datadog uses 15 minutes). It is counted when at
--   least one of its page views falls in the window, and only its events inside the window are
--   seen. A session without a page view in the window (only a session_start event, resource
--   timings or errors, or page views before --since) is not counted here nor by any
--   session-based query: it has no entry page, path or exit, and Matomo and Umami build visits
--   from page views too (its events still count in the event-level queries). Cookieless
--   sessions (nil user id: every page load is its own session) are excluded unless
--   include_cookieless is true; coverage is the share of the window's page views that belong to
--   cookie sessions. sessions = number of sessions; users = distinct user ids among them;
--   page_views = their page views. pages_per_session_mean / _median = mean and median page
--   views per session. duration = last event time - first event time of the session, in seconds
--   (a bounce with one event lasts 0 s, as in Plausible; RUM times have whole-second
--   precision). bounce_rate = sessions with exactly one page view / sessions (Plausible, Umami,
--   Matomo; PostHog also requires < 10 s and no autocapture; CloudWatch RUM defines none).
--   error_session_rate = sessions with at least one JS error or failed HTTP request (status >=
--   400 or no response) / sessions. Percentiles are exact with linear interpolation (DuckDB
--   quantile_cont). Under rumq.toml's [pages] exclude / include, a page view left out and every
--   other event recorded on its page are no part of any session (no start, end, duration, event
--   or error; docs/analyses.md, Page selection).
-- session_based: true
-- estimate: [sessions, users, page_views]
-- params:
--   - name: include_cookieless
--     type: bool
--     default: false
--     help: Count cookieless page loads as one-page sessions
-- columns:
--   - {name: sessions, type: BIGINT, meaning: Sessions with a page view in the window}
--   - {name: users, type: BIGINT, meaning: Distinct user ids of those sessions}
--   - {name: page_views, type: BIGINT, meaning: Page views of those sessions}
--   - {name: pages_per_session_mean, type: DOUBLE, meaning: Mean page views per session}
--   - {name: pages_per_session_median, type: DOUBLE, meaning: Median page views per session}
--   - {name: duration_median_s, type: DOUBLE, meaning: Median session duration (seconds)}
--   - {name: duration_p90_s, type: DOUBLE, meaning: 90th percentile of session duration (seconds)}
--   - {name: bounce_rate, type: DOUBLE, meaning: Single-page-view sessions / sessions}
--   - {name: error_session_rate, type: DOUBLE, meaning: Sessions with a JS or HTTP error / sessions}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
SELECT
    count(*) AS sessions,
    count(DISTINCT user_id) AS users,
    CAST(coalesce(sum(page_views), 0) AS BIGINT) AS page_views,
    avg(page_views) AS pages_per_session_mean,
    quantile_cont(page_views, 0.5) AS pages_per_session_median,
    quantile_cont(duration_s, 0.5) AS duration_median_s,
    quantile_cont(duration_s, 0.9) AS duration_p90_s,
    count(*) FILTER (WHERE bounced) / nullif(count(*), 0) AS bounce_rate,
    count(*) FILTER (WHERE has_error) / nullif(count(*), 0) AS error_session_rate,
    (SELECT coverage FROM cookie_coverage) AS coverage
FROM session_stats
WHERE NOT cookieless OR $include_cookieless
