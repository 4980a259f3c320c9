-- ---
-- name: audience/devices
-- description: Device types - sessions, page views, error-session rate and p75 LCP
-- definition: |
--   Per device type (device_type; missing values are one NULL row), over the sessions in scope:
--   sessions = sessions whose events carry that value (the smallest value when a session has
--   several); page_views = page views of those sessions; error_session_rate = sessions with a
--   JS error or failed HTTP request (status >= 400 or network failure) / sessions. Only
--   sessions with at least one page view in the window count, as in every session-based query.
--   Sessions, page views and error sessions add up to sessions/summary's. lcp_p75_ms = 75th
--   percentile of the LCP events that carry the value (exact, linear interpolation; good <=
--   2500 ms, poor > 4000 ms). Cookieless sessions, and the page views and LCP events sent
--   without cookies, are excluded unless include_cookieless is true, as in every session-based
--   query (performance/web_vitals counts every LCP event). The console's Browsers & Devices tab
--   shows the same slices. coverage is the share of the window's page views in cookie sessions.
-- session_based: true
-- params:
--   - {name: top, type: int, default: 50, min: 1, max: 100000, help: Number of rows to return}
--   - {name: include_cookieless, type: bool, default: false, help: Count cookieless page loads as sessions}
-- columns:
--   - {name: device, type: VARCHAR, meaning: "Device type (desktop, mobile, tablet...)"}
--   - {name: sessions, type: BIGINT, meaning: Sessions}
--   - {name: page_views, type: BIGINT, meaning: Page views of those sessions}
--   - {name: error_session_rate, type: DOUBLE, meaning: Sessions with an error / sessions}
--   - {name: lcp_p75_ms, type: DOUBLE, meaning: 75th percentile of LCP (same cookie filter)}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
SELECT k AS device, sessions, page_views, error_session_rate, lcp_p75_ms, coverage
FROM rumq_audience('device_type', $include_cookieless)
ORDER BY sessions DESC, page_views DESC, device NULLS LAST
LIMIT $top
