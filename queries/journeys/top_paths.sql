-- ---
-- name: journeys/top_paths
-- description: The most common session paths (first pages of each session)
-- definition: |
--   A session's path is its normalized pages in session order (interaction depth, then time,
--   then position in the export) with consecutive repeats collapsed, cut to the first `depth`
--   pages (depth is this query's step cut); a cut path ends in " > …". Paths are grouped as
--   whole sequences (Umami's journey report; PostHog counts edges instead, see
--   journeys/transitions). sessions = sessions with that path; share = sessions / all sessions
--   with at least one page view; length = pages shown. Only sessions with at least one page
--   view in the window count, as in every session-based query. Cookieless sessions are excluded
--   unless include_cookieless is true; coverage is the share of the window's page views in
--   cookie sessions. With by_domain = true a page is qualified by the domain of its page view
--   (metadata.domain): domain + page when the page starts with '/' or '#'
--   (shop.example.com/cart), domain + ' ' + page otherwise, '(unknown)' for a missing domain, a
--   page view without a page id stays a NULL page; repeats are collapsed on the qualified page,
--   so a move from www.example.com/cart to shop.example.com/cart is a step (the path is cut
--   after `depth` qualified pages).
-- session_based: true
-- params:
--   - {name: depth, type: int, default: 5, min: 1, max: 100, help: Pages of each path to keep}
--   - {name: top, type: int, default: 20, min: 1, max: 100000, help: Number of paths to return}
--   - {name: include_cookieless, type: bool, default: false, help: Include cookieless sessions}
--   - {name: by_domain, type: bool, default: false, help: "Qualify each page with its domain (shop.example.com/cart)", sql: {false: journey_steps, true: domain_steps}}
-- columns:
--   - {name: path, type: VARCHAR, meaning: "Pages joined by ' > ', ending in ' > …' when cut (with by_domain, domain + page)"}
--   - {name: length, type: BIGINT, meaning: Pages in the path as shown}
--   - {name: sessions, type: BIGINT, meaning: Sessions with this path}
--   - {name: share, type: DOUBLE, meaning: Sessions / all sessions with a page view}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
WITH domain_steps AS (
    -- by_domain: the journey_steps of the pages qualified by their page view's domain (not in
    -- session_pages: joined by the event id, the deduplication key); consecutive repeats of the
    -- qualified page collapse, so the same path on two domains in a row is two steps.
    SELECT *, row_number() OVER w AS step, lead(page) OVER w AS next_page, lead(seq) OVER w IS NULL AS is_last
    FROM (SELECT *, lag(page) OVER (PARTITION BY session_uuid, session_text, cookieless ORDER BY seq) AS prev_page
          FROM (SELECT p.session_uuid, p.session_text, p.cookieless, p.seq,
                       CASE WHEN p.page IS NULL THEN NULL
                            WHEN p.page LIKE '/%' OR p.page LIKE '#%' THEN coalesce(e.domain, '(unknown)') || p.page
                            ELSE coalesce(e.domain, '(unknown)') || ' ' || p.page END AS page
                FROM session_pages AS p
                JOIN events AS e ON e.event_id = p.event_id AND e.event_name = 'page_view'))
    WHERE seq = 1 OR prev_page IS DISTINCT FROM page
    WINDOW w AS (PARTITION BY session_uuid, session_text, cookieless ORDER BY seq)
), p AS (
    -- An unordered list sorted per session is much cheaper than an ordered aggregate.
    -- Sessions group by their id pair, as journey_steps numbers them (a UUID hashes
    -- faster than its text).
    SELECT
           array_to_string(list_transform(
               list_sort(list({'step': step, 'page': coalesce(page, '(unknown)')}) FILTER (WHERE step <= $depth)),
               lambda x: x.page), ' > ') AS first_pages,
           max(step) AS steps
    FROM {{by_domain}}
    WHERE NOT cookieless OR $include_cookieless
    GROUP BY session_uuid, session_text, cookieless
), g AS (
    SELECT first_pages || CASE WHEN steps > $depth THEN ' > …' ELSE '' END AS path,
           least(steps, $depth) AS length,
           count(*) AS sessions
    FROM p
    GROUP BY ALL
)
SELECT path, length, sessions, sessions / sum(sessions) OVER () AS share,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM g
ORDER BY sessions DESC, path
LIMIT $top
