-- ---
-- name: sessions/list
-- description: Find sessions by what happened in them, newest first, with the console's session-list columns
-- definition: |
--   One row per session (sessions as in every session-based query: at least one page view in the
--   window, only its events in the window seen), newest first (start time descending, then session
--   id, a session's cookie part before its cookieless part). Every filter left at its default keeps
--   all sessions; the filters combine with AND. js_error / http_error: only sessions with at least
--   one JS error / failed HTTP request (status >= 400 or no response). page: only sessions that
--   visited a page matching the pattern (glob on the normalized page: * any text, ? one character,
--   e.g. /product/*). browser, os, device, country: the session's value (its smallest, as
--   sessions/summary groups it), compared case-insensitively. min_duration / max_duration: the
--   session's duration (last event - first event, whole seconds; max 0s = no limit). min_pages: at
--   least that many page views. Columns are those of the CloudWatch RUM console's session list
--   (start, duration, pages, errors, browser, device, country) plus the entry and exit page and the
--   user id, and domains: the distinct `metadata.domain` values of the session's events (sorted,
--   comma-separated), so a session that follows the visitor across subdomains (the cookie's domain
--   attribute decides whether it can) shows each of them; `domain` keeps the sessions that touched
--   it. `rumq session ID` shows one session's events. Cookieless sessions are excluded unless
--   include_cookieless is true; coverage is the share of the window's page views in cookie
--   sessions. Under rumq.toml's [pages] exclude / include, the events recorded on a page left
--   out are no part of the session (start, duration, pages, errors, domains; docs/analyses.md).
-- session_based: true
-- params:
--   - {name: js_error, type: bool, default: false, help: Only sessions with a JS error}
--   - {name: http_error, type: bool, default: false, help: Only sessions with a failed HTTP request}
--   - {name: page, type: str, default: "", help: "Only sessions that visited a page matching this glob (e.g. /product/*)"}
--   - {name: browser, type: str, default: "", help: "Only this browser (e.g. Chrome)"}
--   - {name: os, type: str, default: "", help: Only this operating system}
--   - {name: device, type: str, default: "", help: "Only this device type (desktop, mobile, tablet)"}
--   - {name: country, type: str, default: "", help: "Only this country code (e.g. DE)"}
--   - {name: domain, type: str, default: "", help: "Only sessions with an event on this domain (e.g. shop.example.com)"}
--   - {name: min_duration, type: duration, default: 0s, help: Only sessions lasting at least this long}
--   - {name: max_duration, type: duration, default: 0s, help: "Only sessions lasting at most this long (0s = no limit)"}
--   - {name: min_pages, type: int, default: 1, min: 1, help: Only sessions with at least this many page views}
--   - {name: top, type: int, default: 100, min: 1, max: 100000, help: Number of sessions to return}
--   - {name: include_cookieless, type: bool, default: false, help: Include cookieless sessions}
-- columns:
--   - {name: session_id, type: VARCHAR, meaning: "Session id (`rumq session ID` shows its events)"}
--   - {name: user_id, type: VARCHAR, meaning: "User id (NULL for cookieless sessions)"}
--   - {name: start_time, type: TIMESTAMP, meaning: "First event of the session in the window (UTC)"}
--   - {name: duration_s, type: DOUBLE, meaning: Last event - first event (seconds)}
--   - {name: page_views, type: BIGINT, meaning: Page views}
--   - {name: entry_page, type: VARCHAR, meaning: Normalized page of the first page view}
--   - {name: exit_page, type: VARCHAR, meaning: Normalized page of the last page view}
--   - {name: js_errors, type: BIGINT, meaning: JS errors}
--   - {name: http_errors, type: BIGINT, meaning: "Failed HTTP requests (status >= 400 or none)"}
--   - {name: browser_name, type: VARCHAR, meaning: Browser}
--   - {name: os_name, type: VARCHAR, meaning: Operating system}
--   - {name: device_type, type: VARCHAR, meaning: Device type}
--   - {name: country_code, type: VARCHAR, meaning: Country code}
--   - {name: domains, type: VARCHAR, meaning: "Distinct domains of the session's events, sorted, comma-separated"}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
-- The LIMIT comes first: the session statistics and filters pick the top sessions, and only
-- those get their entry/exit pages and domains (sorting every session's pages and domains
-- before the LIMIT was most of the cost). A filter on pages or domains reads them only when
-- set: its subquery is empty otherwise. Every event of a session is at or after its start,
-- which the joins below say (event_time >= start_time): DuckDB then skips the row groups
-- older than the oldest top session instead of reading every event again.
WITH top AS (
    SELECT s.session_id, s.cookieless, s.user_id, s.start_time, s.duration_s, s.page_views, s.js_errors,
           s.http_errors, s.browser_name, s.os_name, s.device_type, s.country_code
    FROM session_stats AS s
    WHERE (NOT s.cookieless OR $include_cookieless)
      AND (NOT $js_error OR s.js_errors > 0)
      AND (NOT $http_error OR s.http_errors > 0)
      AND ($browser = '' OR lower(s.browser_name) = lower($browser))
      AND ($os = '' OR lower(s.os_name) = lower($os))
      AND ($device = '' OR lower(s.device_type) = lower($device))
      AND ($country = '' OR lower(s.country_code) = lower($country))
      AND s.duration_s >= epoch($min_duration)
      AND ($max_duration <= INTERVAL 0 SECOND OR s.duration_s <= epoch($max_duration))
      AND s.page_views >= $min_pages
      -- An event whose domain is in the list: the same sessions as a test on the
      -- comma-joined domains column.
      AND ($domain = '' OR EXISTS (
          SELECT 1 FROM session_events AS e
          WHERE $domain <> '' AND e.session_id = s.session_id AND e.cookieless = s.cookieless
            AND list_contains(string_split(e.domain, ','), lower($domain))))
      AND ($page = '' OR EXISTS (
          SELECT 1 FROM session_pages AS p
          WHERE $page <> '' AND p.session_id = s.session_id AND p.cookieless = s.cookieless
            AND p.page GLOB $page))
    ORDER BY s.start_time DESC, s.session_id, s.cookieless
    LIMIT $top
),
-- The first and last page view in session order (as the sessions view's entry and exit page).
p AS (
    SELECT v.session_id, v.cookieless,
           arg_min_null(v.page, {'i': coalesce(v.interaction, 2147483647), 't': v.event_time, 'l': v.source_line})
               AS entry_page,
           arg_max_null(v.page, {'i': coalesce(v.interaction, 2147483647), 't': v.event_time, 'l': v.source_line})
               AS exit_page
    FROM page_views AS v
    JOIN top ON top.session_id = v.session_id AND top.cookieless = v.cookieless AND v.event_time >= top.start_time
    GROUP BY v.session_id, v.cookieless
),
-- The session's events as the session views count them (session_events: a page view without a
-- session id is a session of its own; under [pages] rules, no event of a page left out).
d AS (
    SELECT e.session_id, e.cookieless, string_agg(DISTINCT e.domain, ',' ORDER BY e.domain) AS domains
    FROM session_events AS e
    JOIN top ON top.session_id = e.session_id AND top.cookieless = e.cookieless AND e.event_time >= top.start_time
    -- Implied by the join; said here, the cookie filter reaches the scan.
    WHERE NOT e.cookieless OR $include_cookieless
    GROUP BY e.session_id, e.cookieless
)
SELECT top.session_id, top.user_id, top.start_time, top.duration_s, top.page_views, p.entry_page, p.exit_page,
       top.js_errors, top.http_errors, top.browser_name, top.os_name, top.device_type, top.country_code, d.domains,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM top
LEFT JOIN p ON p.session_id = top.session_id AND p.cookieless = top.cookieless
LEFT JOIN d ON d.session_id = top.session_id AND d.cookieless = top.cookieless
ORDER BY top.start_time DESC, top.session_id, top.cookieless
