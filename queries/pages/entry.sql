-- ---
-- name: pages/entry
-- description: Entry pages with sessions, bounce rate and pages per session
-- definition: |
--   The entry page of a session is the normalized page of its first page view (session order:
--   interaction depth, then time, then position in the export); NULL when that page view has
--   no page id (the same entry as in pages/drop_off and journeys/transitions). Per entry page: sessions =
--   sessions that started there; bounces = those with exactly one page view; bounce_rate =
--   bounces / sessions (Plausible and Matomo page-level bounce rate: only sessions entering on
--   the page count); pages_per_session_mean = mean page views of those sessions. Only sessions
--   with at least one page view in the window count, as in every session-based query. Entries
--   add up to sessions/summary's sessions. Cookieless sessions are excluded unless
--   include_cookieless is true; coverage is the share of the window's page views in cookie
--   sessions.
-- session_based: true
-- params:
--   - {name: top, type: int, default: 20, min: 1, max: 100000, help: Number of pages to return}
--   - {name: include_cookieless, type: bool, default: false, help: Include cookieless sessions}
-- columns:
--   - {name: entry_page, type: VARCHAR, meaning: Normalized entry page}
--   - {name: sessions, type: BIGINT, meaning: Sessions that started there}
--   - {name: bounces, type: BIGINT, meaning: "Of those, sessions with one page view"}
--   - {name: bounce_rate, type: DOUBLE, meaning: bounces / sessions}
--   - {name: pages_per_session_mean, type: DOUBLE, meaning: Mean page views of those sessions}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
SELECT entry_page,
       count(*) AS sessions,
       count(*) FILTER (WHERE bounced) AS bounces,
       count(*) FILTER (WHERE bounced) / count(*) AS bounce_rate,
       avg(page_views) AS pages_per_session_mean,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM session_page_stats
WHERE NOT cookieless OR $include_cookieless
GROUP BY entry_page
ORDER BY sessions DESC, entry_page
LIMIT $top
