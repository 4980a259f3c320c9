-- ---
-- name: pages/drop_off
-- description: Pages where sessions end - exits, exit rate, entries and bounces per page
-- definition: |
--   Per normalized page, over the page views of the sessions in scope: page_views = page views
--   of the page; sessions = sessions that saw it; exits = sessions whose last page view
--   (session order: interaction depth, then time, then position in the export) is on it;
--   exit_rate = exits / page_views (Plausible and Google Analytics); exit_share = exits /
--   sessions that saw the page (Matomo calls this the exit rate); entries = sessions whose
--   first page view is on it; bounces = sessions that entered there and viewed no other page.
--   Sorted by exits. The web client caps a session at 200 events, so the true exit page of a
--   very long session may be missing (see data/quality). Only sessions with at least one page
--   view in the window count, as in every session-based query. Exits and entries each add up to
--   sessions/summary's sessions, page views to its page views. Cookieless sessions are excluded
--   unless include_cookieless is true (each of their page loads would count as an exit);
--   coverage is the share of the window's page views in cookie sessions. With by_domain = true a
--   page is qualified by the domain of its page view (metadata.domain): domain + page when the
--   page starts with '/' or '#' (shop.example.com/cart), domain + ' ' + page otherwise,
--   '(unknown)' for a missing domain, and a page view without a page id stays a NULL page; the
--   same path on two domains is two pages, and the order, sessions and exits are unchanged.
-- session_based: true
-- estimate: [page_views, sessions, exits, entries, bounces]
-- params:
--   - {name: top, type: int, default: 20, min: 1, max: 100000, help: Number of pages to return}
--   - {name: by_domain, type: bool, default: false, help: "Qualify each page with its domain (shop.example.com/cart)", sql: {false: session_pages, true: domain_pages}}
--   - {name: include_cookieless, type: bool, default: false, help: Include cookieless sessions}
-- columns:
--   - {name: page, type: VARCHAR, meaning: "Normalized page (with by_domain, domain + page)"}
--   - {name: page_views, type: BIGINT, meaning: Page views of the page}
--   - {name: sessions, type: BIGINT, meaning: Sessions that saw the page}
--   - {name: exits, type: BIGINT, meaning: Sessions that ended on the page}
--   - {name: exit_rate, type: DOUBLE, meaning: exits / page_views}
--   - {name: exit_share, type: DOUBLE, meaning: exits / sessions}
--   - {name: entries, type: BIGINT, meaning: Sessions that started on the page}
--   - {name: bounces, type: BIGINT, meaning: Sessions that started on the page and saw no other}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
WITH domain_pages AS (
    -- by_domain: session_pages with each page qualified by its page view's domain, which the
    -- view does not carry (joined by the event id, the dataset's deduplication key).
    SELECT p.session_uuid, p.session_text, p.cookieless, p.seq, p.is_last,
           CASE WHEN p.page IS NULL THEN NULL
                WHEN p.page LIKE '/%' OR p.page LIKE '#%' THEN coalesce(e.domain, '(unknown)') || p.page
                ELSE coalesce(e.domain, '(unknown)') || ' ' || p.page END AS page
    FROM session_pages AS p JOIN events AS e ON e.event_id = p.event_id AND e.event_name = 'page_view'
), per_session AS (
    -- Per page and session first (by the session's id pair and cookie state, as
    -- session_pages orders them; a UUID hashes faster than its text), then per
    -- page: cheaper than count(DISTINCT session_id).
    SELECT page,
           count(*) AS page_views,
           count(*) FILTER (WHERE is_last) AS exits,
           count(*) FILTER (WHERE seq = 1) AS entries,
           count(*) FILTER (WHERE seq = 1 AND is_last) AS bounces
    FROM {{by_domain}}
    WHERE NOT cookieless OR $include_cookieless
    GROUP BY page, session_uuid, session_text, cookieless
), p AS (
    SELECT page,
           sum(page_views)::BIGINT AS page_views,
           count(*) AS sessions,
           sum(exits)::BIGINT AS exits,
           sum(entries)::BIGINT AS entries,
           sum(bounces)::BIGINT AS bounces
    FROM per_session
    GROUP BY page
)
SELECT page, page_views, sessions, exits,
       exits / page_views AS exit_rate,
       exits / sessions AS exit_share,
       entries, bounces,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM p
ORDER BY exits DESC, page_views DESC, page
LIMIT $top
