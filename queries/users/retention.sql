-- ---
-- name: users/retention
-- description: Cohorts of new users by first-seen period and the share seen again in each later period
-- definition: |
--   Users, new users and sessions are those of users/summary (its limits apply: a user is a
--   `cwr_u` cookie, which a cleared cookie or another browser turns into a new user, so
--   retention is a lower bound; cookieless traffic has no user and is left out). The cohort of
--   a period is the users whose first session ever in the dataset (looked up over the whole
--   history, not only the window) starts in that period inside the window; users first seen
--   before the window belong to no cohort. For every cohort and every period from the cohort's
--   to the last period with a cookie session in the window: period = periods since the cohort
--   (0 = the cohort's own), users = cohort members with a session starting in that period,
--   retention = users / cohort_users (1 at period 0). Later cohorts have fewer periods: the
--   rows are the classic triangle in long form (chart-ready; Dataset.retention_triangle pivots
--   it to one column per period). The cohort is first-time (the first session ever, as
--   PostHog's "first time" retention) and a user counts in the periods they are seen in, not in
--   every period up to then (Datadog's and PostHog's "return on", not "on or after"), relative to
--   period 0. Periods are UTC hours, days or weeks (weeks start on Monday).
-- session_based: true
-- estimate: [cohort_users, users]
-- params:
--   - {name: period, type: str, default: week, choices: [hour, day, week], help: Cohort and retention period (UTC)}
-- columns:
--   - {name: cohort, type: TIMESTAMP, meaning: Start of the cohort's period (first session ever)}
--   - {name: cohort_users, type: BIGINT, meaning: Users in the cohort}
--   - {name: period, type: BIGINT, meaning: Periods since the cohort's (0 = the cohort's own)}
--   - {name: period_start, type: TIMESTAMP, meaning: Start of that period}
--   - {name: users, type: BIGINT, meaning: Cohort users with a session starting in that period}
--   - {name: retention, type: DOUBLE, meaning: users / cohort_users}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
WITH act AS (
    -- A user's periods, each with its first session start (members need the user's first).
    SELECT user_id, date_trunc($period, start_time) AS p, min(start_time) AS start_time
    FROM session_stats WHERE NOT cookieless
    GROUP BY user_id, date_trunc($period, start_time)
),
members AS (
    SELECT w.user_id, date_trunc($period, w.start_time) AS cohort
    FROM (SELECT user_id, min(start_time) AS start_time FROM act GROUP BY user_id) AS w
    JOIN rumq_user_first_seen() AS f ON f.user_id = w.user_id AND f.first_seen = w.start_time
),
sizes AS (SELECT cohort, count(*) AS cohort_users FROM members GROUP BY cohort),
step AS (
    SELECT CASE $period WHEN 'hour' THEN INTERVAL 1 HOUR WHEN 'day' THEN INTERVAL 1 DAY
                ELSE INTERVAL 7 DAY END AS step,
           max(p) AS last_p
    FROM act
),
grid AS (
    SELECT cohort, cohort_users, unnest(range(cohort, last_p + step, step)) AS period_start
    FROM sizes, step
),
seen AS (
    SELECT DISTINCT m.cohort, a.p, a.user_id FROM members AS m JOIN act AS a ON a.user_id = m.user_id
)
SELECT g.cohort, g.cohort_users,
       row_number() OVER (PARTITION BY g.cohort ORDER BY g.period_start) - 1 AS period,
       g.period_start,
       count(seen.user_id) AS users,
       count(seen.user_id) / g.cohort_users AS retention,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM grid AS g
LEFT JOIN seen ON seen.cohort = g.cohort AND seen.p = g.period_start
GROUP BY g.cohort, g.cohort_users, g.period_start
ORDER BY cohort, period
