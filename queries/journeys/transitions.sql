-- ---
-- name: journeys/transitions
-- description: Page-to-page transitions with (entry) and (exit) pseudo-pages, ready for a Sankey
-- definition: |
--   Each session's page views, in session order (interaction depth, then time, then position in
--   the export), with normalized pages and consecutive repeats of the same page collapsed (as
--   PostHog paths and Umami journeys do), form a path. Its edges are (entry) -> first page,
--   each page -> the next, and last page -> (exit). By default (steps = 0) whole paths count,
--   so the (exit) edges of a page equal its exits in pages/drop_off and the (entry) edges its
--   entries in pages/entry and pages/drop_off (the graph is not numbered by step, so a cut has
--   no place in it). steps = N follows only the first N pages of each path (PostHog's step
--   count): an edge is kept when its target is at position <= N; the (exit) edge only when the
--   whole path fits (a cut path did not end there). A page view without a page id is a NULL
--   page, a step like any other (also as the first page: (entry) -> NULL). Only sessions with at least one page view in the window count, as in every
--   session-based query. transitions = number of edges (a session can take an edge more than
--   once); sessions = sessions that took it; share = transitions / all transitions leaving
--   from_page (computed before the top and min_count cuts). Unlike PostHog, pages are not
--   prefixed with their step number, so loops (A -> B -> A) appear as two edges of one graph.
--   Cookieless sessions are excluded unless include_cookieless is true (their page loads are
--   separate sessions, and would show as entry -> page -> exit); coverage is the share of the
--   window's page views in cookie sessions. With by_domain = true a page is qualified by the
--   domain of its page view (metadata.domain): domain + page when the page starts with '/' or
--   '#' (shop.example.com/cart), domain + ' ' + page otherwise, '(unknown)' for a missing
--   domain, a page view without a page id stays a NULL page; repeats are collapsed on the
--   qualified page, so a move from www.example.com/cart to shop.example.com/cart is a step.
-- session_based: true
-- params:
--   - {name: top, type: int, default: 50, min: 1, max: 100000, help: Number of edges to return}
--   - {name: min_count, type: int, default: 1, min: 1, help: Minimum transitions of an edge}
--   - {name: steps, type: int, default: 0, min: 0, max: 1000, help: "Pages of each path to follow (0 = whole paths)"}
--   - {name: include_cookieless, type: bool, default: false, help: Include cookieless sessions}
--   - {name: by_domain, type: bool, default: false, help: "Qualify each page with its domain (shop.example.com/cart)", sql: {false: transitions, true: domain_transitions}}
-- columns:
--   - {name: from_page, type: VARCHAR, meaning: "Normalized page (or (entry); with by_domain, domain + page)"}
--   - {name: to_page, type: VARCHAR, meaning: "Next normalized page (or (exit); with by_domain, domain + page)"}
--   - {name: sessions, type: BIGINT, meaning: Sessions that took the edge}
--   - {name: transitions, type: BIGINT, meaning: Times the edge was taken}
--   - {name: share, type: DOUBLE, meaning: Transitions / all transitions out of from_page}
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
), domain_transitions AS (
    -- The edges of those paths, as the view transitions makes them.
    SELECT session_uuid, session_text, cookieless,
           CASE WHEN k = 0 THEN 0 ELSE step END AS from_step,
           CASE WHEN k = 0 THEN '(entry)' ELSE page END AS from_page,
           CASE WHEN k = 0 THEN page WHEN is_last THEN '(exit)' ELSE next_page END AS to_page
    FROM (SELECT *, unnest(CASE WHEN step = 1 THEN [0, 1] ELSE [1] END) AS k FROM domain_steps)
), per_session AS (
    -- Edges per session first (by the session's id pair and cookie state, as
    -- journey_steps numbers them; a UUID hashes faster than its text), then per
    -- edge: cheaper than count(DISTINCT session_id).
    SELECT from_page, to_page, count(*) AS transitions
    FROM {{by_domain}}
    WHERE (NOT cookieless OR $include_cookieless)
      AND ($steps = 0 OR CASE WHEN to_page = '(exit)' THEN from_step <= $steps ELSE from_step < $steps END)
    GROUP BY from_page, to_page, session_uuid, session_text, cookieless
), edges AS (
    SELECT from_page, to_page, sum(transitions)::BIGINT AS transitions, count(*) AS sessions
    FROM per_session
    GROUP BY from_page, to_page
), shared AS (
    SELECT *, transitions / sum(transitions) OVER (PARTITION BY from_page) AS share FROM edges
)
SELECT from_page, to_page, sessions, transitions, share,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM shared
WHERE transitions >= $min_count
ORDER BY transitions DESC, from_page, to_page
LIMIT $top
