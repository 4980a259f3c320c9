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
--   cookie sessions.
-- session_based: true
-- params:
--   - {name: depth, type: int, default: 5, min: 1, max: 100, help: Pages of each path to keep}
--   - {name: top, type: int, default: 20, min: 1, max: 100000, help: Number of paths to return}
--   - {name: include_cookieless, type: bool, default: false, help: Include cookieless sessions}
-- columns:
--   - {name: path, type: VARCHAR, meaning: "Pages joined by ' > ', ending in ' > …' when cut"}
--   - {name: length, type: BIGINT, meaning: Pages in the path as shown}
--   - {name: sessions, type: BIGINT, meaning: Sessions with this path}
--   - {name: share, type: DOUBLE, meaning: Sessions / all sessions with a page view}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
WITH p AS (
    -- An unordered list sorted per session is much cheaper than an ordered aggregate.
    -- Sessions group by their id pair, as journey_steps numbers them (a UUID hashes
    -- faster than its text).
    SELECT
           array_to_string(list_transform(
               list_sort(list({'step': step, 'page': coalesce(page, '(unknown)')}) FILTER (WHERE step <= $depth)),
               lambda x: x.page), ' > ') AS first_pages,
           max(step) AS steps
    FROM journey_steps
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
