-- ---
-- name: pages/groups
-- description: Page groups (pageTags of custom page views) with page views, sessions, entries, exits, bounces, errors and p75 LCP
-- definition: |
--   A page group is a tag of a page view's `pageTags` (metadata.pageTags: the site records custom
--   page views with tags, e.g. recordPageView({pageId, pageTags: ['products']})). A page view with
--   several tags counts in each of its groups (a tag repeated on one page view once); a page view
--   without tags is in the group '(none)'. Per group: page_views; sessions = sessions with a page
--   view in the group; entries = sessions whose first page view (session order) is in it; exits
--   = sessions whose last page view is in it; bounces = one-page-view sessions whose page view is
--   in it; bounce_rate = bounces / entries; error_session_rate = sessions in the group with a JS
--   error or failed HTTP request (anywhere in the session) / sessions; lcp_p75_ms = exact 75th
--   percentile of the LCP events tagged with the group (an event carries its page's tags). Only
--   sessions with at least one page view in the window count, as in every session-based query;
--   summed over the groups, entries and exits equal sessions/summary's sessions when every page
--   view has at most one tag. Cookieless sessions (and their LCP events) are excluded unless
--   include_cookieless is true; coverage is the share of the window's page views in cookie
--   sessions. Ordered by page views (descending), then group.
-- session_based: true
-- estimate: [page_views, sessions, entries, exits, bounces]
-- params:
--   - {name: top, type: int, default: 50, min: 1, max: 100000, help: Number of groups to return}
--   - {name: include_cookieless, type: bool, default: false, help: Include cookieless sessions}
-- columns:
--   - {name: page_group, type: VARCHAR, meaning: "The tag ('(none)': page views without tags)"}
--   - {name: page_views, type: BIGINT, meaning: Page views in the group}
--   - {name: sessions, type: BIGINT, meaning: Sessions with a page view in the group}
--   - {name: entries, type: BIGINT, meaning: Sessions whose first page view is in the group}
--   - {name: exits, type: BIGINT, meaning: Sessions whose last page view is in the group}
--   - {name: bounces, type: BIGINT, meaning: One-page-view sessions in the group}
--   - {name: bounce_rate, type: DOUBLE, meaning: bounces / entries}
--   - {name: error_session_rate, type: DOUBLE, meaning: "Sessions with a JS or HTTP error / sessions"}
--   - {name: lcp_p75_ms, type: DOUBLE, meaning: p75 of the group's LCP events (ms)}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
-- One window (one sort): the entry is the first page view in session order, the exit the one
-- with no next (session_pages' is_last), and a one-page-view session's entry is its exit.
WITH pv AS (
    SELECT session_uuid, session_text, cookieless, page_tags,
           row_number() OVER w = 1 AS is_entry,
           lead(event_time) OVER w IS NULL AS is_exit
    FROM page_views
    WHERE NOT cookieless OR $include_cookieless
    WINDOW w AS (PARTITION BY session_uuid, session_text, cookieless ORDER BY interaction NULLS LAST, event_time, source_line)
),
-- The sessions with a JS error or failed HTTP request: session_stats' has_error, without
-- aggregating every event of every session (only the error events are read).
err AS (
    SELECT DISTINCT session_uuid, session_text, cookieless
    FROM rumq_events
    WHERE (event_name = 'js_error' OR (event_name = 'http' AND coalesce(http_status >= 400, true)))
      AND (session_uuid IS NOT NULL OR session_text IS NOT NULL)
      AND (NOT cookieless OR $include_cookieless)
),
g AS (
    SELECT pv.*, err.cookieless IS NOT NULL AS has_error,
           unnest(CASE WHEN len(list_distinct(page_tags)) > 0 THEN list_distinct(page_tags) ELSE ['(none)'] END)
               AS page_group
    FROM pv
    LEFT JOIN err ON err.session_uuid IS NOT DISTINCT FROM pv.session_uuid
                 AND err.session_text IS NOT DISTINCT FROM pv.session_text AND err.cookieless = pv.cookieless
),
per AS (
    SELECT page_group,
           count(*) AS page_views,
           count(DISTINCT {'u': session_uuid, 't': session_text, 'c': cookieless}) AS sessions,
           count(*) FILTER (WHERE is_entry) AS entries,
           count(*) FILTER (WHERE is_exit) AS exits,
           count(*) FILTER (WHERE is_entry AND is_exit) AS bounces,
           count(DISTINCT {'u': session_uuid, 't': session_text, 'c': cookieless}) FILTER (WHERE has_error)
               AS error_sessions
    FROM g GROUP BY page_group
),
lcp AS (
    SELECT unnest(CASE WHEN len(list_distinct(page_tags)) > 0 THEN list_distinct(page_tags) ELSE ['(none)'] END)
               AS page_group,
           vital_value
    FROM rumq_events
    WHERE event_name = 'lcp'
      AND ($include_cookieless OR NOT (cookieless OR (session_uuid IS NULL AND session_text IS NULL)))
),
lcp_p AS (SELECT page_group, quantile_cont(vital_value, 0.75) AS lcp_p75_ms FROM lcp GROUP BY page_group)
SELECT per.page_group, page_views, sessions, entries, exits, bounces,
       bounces / nullif(entries, 0) AS bounce_rate,
       error_sessions / sessions AS error_session_rate,
       lcp_p.lcp_p75_ms,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM per LEFT JOIN lcp_p USING (page_group)
ORDER BY page_views DESC, page_group
LIMIT $top
