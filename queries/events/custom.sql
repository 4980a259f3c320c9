-- ---
-- name: events/custom
-- description: Custom events per type (events, sessions, users) and the values of one detail field
-- definition: |
--   A custom event is one whose event_type is outside the web client's own com.amazon.rum.*
--   types: what a site sends with recordEvent (e.g. com.example.shop.purchase with its
--   details). Per type: events = its events in the window; sessions = distinct session ids
--   among them; users = distinct user ids (cookieless events have no user and no interaction;
--   an event without a session id counts in events only). This is event-level: sessions without
--   a page view count too, and cookieless traffic is included (as in errors/top_js). `type`
--   keeps the types matching a glob (com.example.shop.*). With `field` (a key of the event
--   details, e.g. price; nested keys joined by /, e.g. item/sku, as a JSON pointer): one row per type and
--   value of that field as text (value NULL: events without it), with events, sessions and
--   users per value. With numeric=true: one row per type instead, numeric_values = events whose
--   field is a number (or numeric text), sum, mean and the exact p50 / p90 (linear
--   interpolation, DuckDB quantile_cont) of those values. Ordered by events (descending), then
--   type and value. PostHog and Mixpanel chart custom events the same way (counts, unique
--   users, sum / average / percentiles of a property).
-- estimate: [events, sessions, users, numeric_values, sum]
-- params:
--   - {name: type, type: str, default: "", help: "Only custom event types matching this glob (e.g. com.example.shop.*)"}
--   - {name: field, type: str, default: "", help: "A field of the event details (e.g. price; nested: a/b): counts per value"}
--   - {name: numeric, type: bool, default: false, help: "Treat the field as a number: sum, mean, p50, p90 per type"}
--   - {name: top, type: int, default: 50, min: 1, max: 100000, help: Number of rows to return}
-- columns:
--   - {name: event_type, type: VARCHAR, meaning: Custom event type}
--   - {name: value, type: VARCHAR, meaning: "The field's value as text (NULL without a field, with numeric, or when missing)"}
--   - {name: events, type: BIGINT, meaning: Events}
--   - {name: sessions, type: BIGINT, meaning: Distinct session ids}
--   - {name: users, type: BIGINT, meaning: Distinct user ids}
--   - {name: numeric_values, type: BIGINT, meaning: "Events whose field is a number (numeric only, else NULL)"}
--   - {name: sum, type: DOUBLE, meaning: Sum of the numeric values (numeric only)}
--   - {name: mean, type: DOUBLE, meaning: Mean of the numeric values (numeric only)}
--   - {name: p50, type: DOUBLE, meaning: Median of the numeric values (numeric only)}
--   - {name: p90, type: DOUBLE, meaning: 90th percentile of the numeric values (numeric only)}
-- ---
WITH c AS (
    SELECT event_type, session_id, user_id,
           -- A JSON pointer built from the bound field name (a value, never SQL text).
           CASE WHEN $field = '' THEN NULL ELSE json_extract_string(event_details, '/' || $field) END AS v
    FROM events
    WHERE event_type NOT LIKE 'com.amazon.rum.%' AND ($type = '' OR event_type GLOB $type)
),
k AS (
    SELECT *, CASE WHEN $field = '' OR $numeric THEN NULL ELSE v END AS value,
           CASE WHEN $numeric THEN TRY_CAST(v AS DOUBLE) END AS x
    FROM c
)
SELECT event_type, value,
       count(*) AS events,
       count(DISTINCT session_id) AS sessions,
       count(DISTINCT user_id) AS users,
       CASE WHEN $numeric THEN count(x) END AS numeric_values,
       sum(x) AS sum, avg(x) AS mean,
       quantile_cont(x, 0.5) AS p50, quantile_cont(x, 0.9) AS p90
FROM k
GROUP BY event_type, value
ORDER BY events DESC, event_type, value NULLS LAST
LIMIT $top
