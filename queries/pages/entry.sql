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
--   sessions. With by_domain = true the entry page is qualified by the domain of that first page
--   view (metadata.domain) as pages/drop_off qualifies pages: domain + page when the page starts
--   with '/' or '#' (shop.example.com/cart), domain + ' ' + page otherwise, '(unknown)' for a
--   missing domain, NULL without a page id.
-- session_based: true
-- params:
--   - {name: top, type: int, default: 20, min: 1, max: 100000, help: Number of pages to return}
--   - {name: by_domain, type: bool, default: false, help: "Qualify each page with its domain (shop.example.com/cart)", sql: {false: session_page_stats, true: domain_entries}}
--   - {name: include_cookieless, type: bool, default: false, help: Include cookieless sessions}
-- columns:
--   - {name: entry_page, type: VARCHAR, meaning: "Normalized entry page (with by_domain, domain + page)"}
--   - {name: sessions, type: BIGINT, meaning: Sessions that started there}
--   - {name: bounces, type: BIGINT, meaning: "Of those, sessions with one page view"}
--   - {name: bounce_rate, type: DOUBLE, meaning: bounces / sessions}
--   - {name: pages_per_session_mean, type: DOUBLE, meaning: Mean page views of those sessions}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
WITH domain_entries AS (
    -- by_domain: per session, the qualified page of its first page view (seq 1) and its page
    -- views; the domain is not in session_pages (joined by the event id, the deduplication key).
    SELECT max(CASE WHEN p.seq = 1 THEN
                   CASE WHEN p.page IS NULL THEN NULL
                        WHEN p.page LIKE '/%' OR p.page LIKE '#%' THEN coalesce(e.domain, '(unknown)') || p.page
                        ELSE coalesce(e.domain, '(unknown)') || ' ' || p.page END END) AS entry_page,
           count(*) AS page_views, count(*) = 1 AS bounced, p.cookieless
    FROM session_pages AS p JOIN events AS e ON e.event_id = p.event_id AND e.event_name = 'page_view'
    GROUP BY p.session_uuid, p.session_text, p.cookieless
)
SELECT entry_page,
       count(*) AS sessions,
       count(*) FILTER (WHERE bounced) AS bounces,
       count(*) FILTER (WHERE bounced) / count(*) AS bounce_rate,
       avg(page_views) AS pages_per_session_mean,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM {{by_domain}}
WHERE NOT cookieless OR $include_cookieless
GROUP BY entry_page
ORDER BY sessions DESC, entry_page
LIMIT $top
