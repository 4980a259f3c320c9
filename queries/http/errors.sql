-- ---
-- name: http/errors
-- description: Failing HTTP requests by method, URL pattern and status class
-- definition: |
--   Every HTTP event in the window counts, cookieless or not (event-level). A request fails
--   when its status is >= 400 or it has no status (a network failure: the request got no
--   response; status_class 'network'). URLs are grouped as host + normalized path (query
--   string and fragment dropped, [[http.rules]] of rumq.toml, id-like segments -> :id; see
--   docs/analyses.md). Per (method, url_pattern, status_class) of failing requests: requests
--   = failing requests; sessions = distinct session ids among them; share = requests / all
--   requests (any status) with the same method and URL pattern. CloudWatch RUM only counts
--   4xx/5xx per session (Http4xxCount...) and does not group URLs.
-- params:
--   - {name: top, type: int, default: 50, min: 1, max: 100000, help: Number of rows to return}
-- columns:
--   - {name: method, type: VARCHAR, meaning: HTTP method}
--   - {name: url_pattern, type: VARCHAR, meaning: Host + normalized path}
--   - {name: status_class, type: VARCHAR, meaning: "4xx, 5xx, ... or network"}
--   - {name: requests, type: BIGINT, meaning: Failing requests}
--   - {name: sessions, type: BIGINT, meaning: Sessions affected}
--   - {name: share, type: DOUBLE, meaning: requests / all requests with this method and URL pattern}
-- ---
WITH g AS (
    SELECT method, url_pattern, status_class, failed,
           count(*) AS requests, count(DISTINCT session_id) AS sessions
    FROM http_requests
    GROUP BY ALL
), s AS (
    SELECT *, requests / sum(requests) OVER (PARTITION BY method, url_pattern) AS share FROM g
)
SELECT method, url_pattern, status_class, requests, sessions, share
FROM s
WHERE failed
ORDER BY requests DESC, method, url_pattern, status_class
LIMIT $top
