-- ---
-- name: errors/top_js
-- description: JavaScript errors grouped by fingerprint, most frequent first
-- definition: |
--   Every JS error event in the window counts, cookieless or not (event-level). Errors are
--   grouped by a fingerprint of: the error type; the message with URLs, quoted strings,
--   UUIDs, hex ids (0x..., or 12+ hex digits) and numbers replaced by <url>, <str>, <uuid>,
--   <hex> and <n> (a subset of Sentry's parameterization); and the top stack frame's file
--   (without query string) and function, parsed from Chrome ("at fn (file:line:col)") or
--   Firefox ("fn@file:line:col") stacks. The web client truncates stacks to 150 characters,
--   so a cut first frame falls back to the error's filename. PostHog fingerprints on type +
--   first in-app frame; Sentry on the whole in-app stack. errors = events; sessions =
--   distinct session ids (errors without a session id are counted in errors only);
--   first_seen / last_seen = earliest / latest event time; sample_message = the smallest
--   raw message of the group (deterministic).
-- params:
--   - {name: top, type: int, default: 20, min: 1, max: 100000, help: Number of groups to return}
-- columns:
--   - {name: fingerprint, type: VARCHAR, meaning: First 12 hex digits of md5 over the grouping fields}
--   - {name: error_type, type: VARCHAR, meaning: Error type (Error.name)}
--   - {name: message_pattern, type: VARCHAR, meaning: Message with variable parts replaced}
--   - {name: top_file, type: VARCHAR, meaning: File of the top stack frame}
--   - {name: top_function, type: VARCHAR, meaning: Function of the top stack frame}
--   - {name: errors, type: BIGINT, meaning: Error events}
--   - {name: sessions, type: BIGINT, meaning: Sessions affected}
--   - {name: first_seen, type: TIMESTAMP, meaning: First occurrence (UTC)}
--   - {name: last_seen, type: TIMESTAMP, meaning: Last occurrence (UTC)}
--   - {name: sample_message, type: VARCHAR, meaning: One raw message of the group}
-- ---
WITH e AS (
    -- events rather than the js_errors view: no normalized page needed here.
    SELECT error_type, error_message, error_filename, event_time, session_id,
        regexp_extract(error_stack, '(?m)^\s*(at \S.*|[^@\s]*@\S+:\d+(?::\d+)?)\s*$', 1) AS frame
    FROM events
    WHERE event_name = 'js_error'
), f AS (
    SELECT
        error_type,
        error_message,
        event_time,
        session_id,
        regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
            coalesce(error_message, ''),
            'https?://[^\s''"()<>]+', '<url>', 'g'),
            '''[^'']*''|"[^"]*"', '<str>', 'g'),
            '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>', 'g'),
            '\b0x[0-9a-fA-F]+\b', '<hex>', 'g'),
            '\b[0-9a-fA-F]{12,}\b', '<hex>', 'g'),
            '\d+(\.\d+)?', '<n>', 'g') AS message_pattern,
        regexp_replace(coalesce(
            nullif(regexp_extract(frame, '([^\s(@]+?):\d+(?::\d+)?\)?$', 1), ''),
            error_filename), '[?#].*$', '') AS top_file,
        CASE WHEN frame = '' OR frame IS NULL THEN NULL
             WHEN starts_with(frame, 'at ') THEN coalesce(nullif(regexp_extract(frame, '^at (.+?) \(', 1), ''), '<anonymous>')
             ELSE coalesce(nullif(split_part(frame, '@', 1), ''), '<anonymous>') END AS top_function
    FROM e
)
SELECT substr(md5(concat_ws('|', error_type, message_pattern, top_file, top_function)), 1, 12) AS fingerprint,
       error_type, message_pattern, top_file, top_function,
       count(*) AS errors,
       count(DISTINCT session_id) AS sessions,
       min(event_time) AS first_seen,
       max(event_time) AS last_seen,
       min(error_message) AS sample_message
FROM f
GROUP BY error_type, message_pattern, top_file, top_function
ORDER BY errors DESC, fingerprint
LIMIT $top
