-- ---
-- name: performance/web_vitals
-- description: Web vitals per page - p50, p75, p90 and good / needs-improvement / poor shares
-- definition: |
--   Every web vital event in the window counts, cookieless or not (event-level), grouped by
--   the normalized page it was recorded on (or all pages with by=none) and metric (LCP, FCP,
--   CLS, INP, FID, TTFB; ms except CLS). samples = events with a value; p50/p75/p90 are exact
--   percentiles with linear interpolation (DuckDB quantile_cont; Logs Insights' pct is
--   approximate, so numbers can differ slightly). Ratings use the thresholds of Google's
--   web-vitals library: a value at or below the first threshold is good, at or below the
--   second needs improvement, above it poor (LCP 2500/4000, FCP 1800/3000, CLS 0.1/0.25,
--   INP 200/500, FID 100/300, TTFB 800/1800); the shares are of samples. The assessment
--   value Google uses is p75. Rows are ordered by sort (default: most samples first); ties by
--   page, then metric. top cuts after sorting.
-- params:
--   - name: by
--     type: str
--     default: page
--     choices: [page, none]
--     help: Group by page, or over all pages
--     sql:
--       page: page
--       none: "'(all)'"
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
--   - {name: page, type: VARCHAR, meaning: "Normalized page ('(all)' with by=none)"}
--   - {name: metric, type: VARCHAR, meaning: "LCP, FCP, CLS, INP, FID or TTFB"}
--   - {name: samples, type: BIGINT, meaning: Events with a value}
--   - {name: p50, type: DOUBLE, meaning: Median}
--   - {name: p75, type: DOUBLE, meaning: 75th percentile}
--   - {name: p90, type: DOUBLE, meaning: 90th percentile}
--   - {name: good, type: DOUBLE, meaning: Share of samples rated good}
--   - {name: needs_improvement, type: DOUBLE, meaning: Share rated needs-improvement}
--   - {name: poor, type: DOUBLE, meaning: Share rated poor}
-- ---
WITH g AS (
    SELECT CAST({{by}} AS VARCHAR) AS page, metric,
           count(*) AS samples,
           quantile_cont(value, [0.5, 0.75, 0.9]) AS q,
           count(*) FILTER (WHERE rating = 'good') / count(*) AS good,
           count(*) FILTER (WHERE rating = 'needs-improvement') / count(*) AS needs_improvement,
           count(*) FILTER (WHERE rating = 'poor') / count(*) AS poor
    FROM web_vitals
    WHERE value IS NOT NULL AND ($metric = 'all' OR metric = $metric)
    GROUP BY ALL
)
SELECT page, metric, samples, q[1] AS p50, q[2] AS p75, q[3] AS p90, good, needs_improvement, poor
FROM g
WHERE samples >= $min_samples
ORDER BY {{sort}}
LIMIT $top
