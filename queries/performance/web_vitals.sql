-- ---
-- name: performance/web_vitals
-- description: Web vitals per page - p50, p75, p90 and good / needs-improvement / poor shares
-- definition: |
--   Every web vital event in the window counts, cookieless or not (event-level), grouped by the
--   normalized page it was recorded on (or all pages with by=none, or page group with by=group:
--   each tag of the event's own pageTags, as pages/groups groups its LCP events; an event with
--   several tags counts in each group, a repeated tag once, an event without tags in '(none)';
--   the page column then holds the group) and metric (LCP, FCP, CLS, INP, FID, TTFB; ms except
--   CLS). samples = events with a value; p50/p75/p90 are exact percentiles with linear
--   interpolation (DuckDB quantile_cont; Logs Insights' pct is approximate, so numbers can
--   differ slightly). Ratings use the thresholds of Google's web-vitals library: a value at or
--   below the first threshold is good, at or below the second needs improvement, above it poor
--   (LCP 2500/4000, FCP 1800/3000, CLS 0.1/0.25, INP 200/500, FID 100/300, TTFB 800/1800); the
--   shares are of samples. The assessment value Google uses is p75. Rows are ordered by sort
--   (default: most samples first); ties by page, then metric. top cuts after sorting.
-- params:
--   - name: by
--     type: str
--     default: page
--     choices: [page, none, group]
--     help: Group by page, over all pages, or by page group (pageTags)
--     sql:
--       page: by_page
--       none: by_none
--       group: by_group
--   - {name: metric, type: str, default: all, choices: [all, LCP, FCP, CLS, INP, FID, TTFB], help: Only this metric}
--   - {name: min_samples, type: int, default: 1, min: 1, help: Hide groups with fewer samples}
--   - {name: top, type: int, default: 100, min: 1, max: 100000, help: Number of rows to return}
--   - name: sort
--     type: str
--     default: samples
--     help: "Row order: samples (most first), p50 / p75 / p90 (slowest first; compare one metric), poor (largest poor share first), page (by name)"
--     sql:
--       samples: "samples DESC, page, metric"
--       p50: "p50 DESC, page, metric"
--       p75: "p75 DESC, page, metric"
--       p90: "p90 DESC, page, metric"
--       poor: "poor DESC, samples DESC, page, metric"
--       page: "page, metric"
-- columns:
--   - {name: page, type: VARCHAR, meaning: "Normalized page ('(all)' with by=none, the page group with by=group)"}
--   - {name: metric, type: VARCHAR, meaning: "LCP, FCP, CLS, INP, FID or TTFB"}
--   - {name: samples, type: BIGINT, meaning: Events with a value}
--   - {name: p50, type: DOUBLE, meaning: Median}
--   - {name: p75, type: DOUBLE, meaning: 75th percentile}
--   - {name: p90, type: DOUBLE, meaning: 90th percentile}
--   - {name: good, type: DOUBLE, meaning: Share of samples rated good}
--   - {name: needs_improvement, type: DOUBLE, meaning: Share rated needs-improvement}
--   - {name: poor, type: DOUBLE, meaning: Share rated poor}
-- ---
-- The `by` parameter picks one of these relations: each row of web_vitals with its group k.
WITH by_page AS (SELECT *, page AS k FROM web_vitals),
by_none AS (SELECT *, '(all)' AS k FROM web_vitals),
tags AS (
    -- by=group: the distinct tags of each event's own pageTags, which the view does not carry
    -- (a tag repeated on one event once)
    SELECT DISTINCT event_id, k
    FROM (SELECT *, unnest(page_tags) AS k FROM (SELECT event_id, page_tags FROM events))
    WHERE k IS NOT NULL
),
-- Each event once per tag, joined by the event id (the deduplication key); one without tags in '(none)'.
by_group AS (SELECT w.*, coalesce(t.k, '(none)') AS k
             FROM web_vitals AS w LEFT JOIN tags AS t ON t.event_id = w.event_id),
g AS (
    SELECT CAST(k AS VARCHAR) AS page, metric,
           count(*) AS samples,
           quantile_cont(value, [0.5, 0.75, 0.9]) AS q,
           count(*) FILTER (WHERE rating = 'good') / count(*) AS good,
           count(*) FILTER (WHERE rating = 'needs-improvement') / count(*) AS needs_improvement,
           count(*) FILTER (WHERE rating = 'poor') / count(*) AS poor
    FROM {{by}}
    WHERE value IS NOT NULL AND ($metric = 'all' OR metric = $metric)
    GROUP BY ALL
)
SELECT page, metric, samples, q[1] AS p50, q[2] AS p75, q[3] AS p90, good, needs_improvement, poor
FROM g
WHERE samples >= $min_samples
ORDER BY {{sort}}
LIMIT $top
