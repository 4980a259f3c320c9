-- ---
-- name: audience/browsers
-- description: Browsers - sessions, page views, error-session rate and p75 LCP
-- definition: |
--   Per browser (browser_name; missing values show as NULL): sessions = sessions whose events
--   carry that browser (the smallest value when a session has several), excluding cookieless
--   sessions unless include_cookieless is true; error_session_rate = sessions with a JS error
--   or failed HTTP request (status >= 400 or network failure) / sessions; page_views = every
--   page view (event-level: cookieless ones included); lcp_p75_ms = 75th percentile of every
--   LCP event (exact, linear interpolation; good <= 2500 ms, poor > 4000 ms). The console's
--   Browsers & Devices tab shows the same slices. coverage is the share of the window's page
--   views in cookie sessions.
-- session_based: true
-- params:
--   - {name: top, type: int, default: 50, min: 1, max: 100000, help: Number of rows to return}
--   - {name: include_cookieless, type: bool, default: false, help: Count cookieless page loads as sessions}
-- columns:
--   - {name: browser, type: VARCHAR, meaning: Browser name}
--   - {name: sessions, type: BIGINT, meaning: Sessions}
--   - {name: page_views, type: BIGINT, meaning: Page views (all)}
--   - {name: error_session_rate, type: DOUBLE, meaning: Sessions with an error / sessions}
--   - {name: lcp_p75_ms, type: DOUBLE, meaning: 75th percentile of LCP}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
WITH s AS (
    SELECT browser_name AS k, count(*) AS sessions, count(*) FILTER (WHERE has_error) AS error_sessions
    FROM session_stats
    WHERE NOT cookieless OR $include_cookieless
    GROUP BY k
), p AS (
    SELECT browser_name AS k, count(*) AS page_views FROM events WHERE event_name = 'page_view' GROUP BY k
), l AS (
    SELECT browser_name AS k, quantile_cont(vital_value, 0.75) AS lcp_p75_ms
    FROM events WHERE event_name = 'lcp' GROUP BY k
)
SELECT k AS browser,
       coalesce(s.sessions, 0) AS sessions,
       coalesce(p.page_views, 0) AS page_views,
       s.error_sessions / s.sessions AS error_session_rate,
       l.lcp_p75_ms,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM p FULL JOIN s USING (k) FULL JOIN l USING (k)
ORDER BY sessions DESC, page_views DESC, browser NULLS LAST
LIMIT $top
