-- ---
-- name: users/summary
-- description: Users, new and returning users, sessions per user, per hour, day or week
-- definition: |
--   A user is one `cwr_u` user id. The id lives as long as the web client's cookie: the client
--   renews it on every visit, but a visitor who clears cookies, changes browser or device, or
--   browses privately comes back as a new user, so users are an upper bound on people and
--   returning users a lower bound. Cookieless traffic (nil user id) has no user at all: it is
--   not counted in users, and user_id_coverage says how much of the traffic that leaves out.
--   Sessions are counted as in every session-based query (at least one page view in the
--   window); a session belongs to the period its first event in the window falls in. users =
--   distinct user ids of the cookie sessions of the period. A user is new in a period when
--   their first session ever in the dataset starts in it (and in the window): the first session
--   is looked up over the dataset's whole history up to the window's end, not only the window,
--   so a window that starts after the dataset's first event still tells new from returning; a
--   session that began before the window (and runs into it) counts as before it. A session
--   without a page view is no session here either, so it never makes a user's first session.
--   returning_users = users - new_users. sessions = cookie sessions; sessions_per_user =
--   sessions / users. user_id_coverage = sessions with a user id / all sessions of the period
--   (cookieless ones included), as coverage is the share of the window's page views in cookie
--   sessions.
-- session_based: true
-- estimate: [users, new_users, returning_users, sessions]
-- params:
--   - name: period
--     type: str
--     default: none
--     choices: [none, hour, day, week]
--     help: One row per hour, day or week (UTC, weeks start on Monday) of the session start
--     sql:
--       none: "CAST(NULL AS TIMESTAMP)"
--       hour: "date_trunc('hour', start_time)"
--       day: "date_trunc('day', start_time)"
--       week: "date_trunc('week', start_time)"
-- columns:
--   - {name: period, type: TIMESTAMP, meaning: Start of the hour/day/week (NULL without a period)}
--   - {name: users, type: BIGINT, meaning: Distinct user ids of the period's cookie sessions}
--   - {name: new_users, type: BIGINT, meaning: "Users whose first session ever starts in the period"}
--   - {name: returning_users, type: BIGINT, meaning: users - new_users}
--   - {name: sessions, type: BIGINT, meaning: Cookie sessions starting in the period}
--   - {name: sessions_per_user, type: DOUBLE, meaning: sessions / users}
--   - {name: user_id_coverage, type: DOUBLE, meaning: "Sessions with a user id / all sessions of the period"}
--   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
-- ---
WITH s AS (
    SELECT {{period}} AS period, user_id, cookieless, start_time FROM session_stats
),
firsts AS (
    -- A user's first session in the window is their first ever when it starts when the history's does.
    SELECT w.user_id, w.start_time
    FROM (SELECT user_id, min(start_time) AS start_time FROM s WHERE NOT cookieless GROUP BY user_id) AS w
    JOIN rumq_user_first_seen() AS f ON f.user_id = w.user_id AND f.first_seen = w.start_time
),
per AS (
    SELECT s.period,
           count(DISTINCT s.user_id) FILTER (WHERE NOT s.cookieless) AS users,
           count(DISTINCT n.user_id) AS new_users,
           count(*) FILTER (WHERE NOT s.cookieless) AS sessions,
           count(*) AS all_sessions
    FROM s
    LEFT JOIN firsts AS n ON NOT s.cookieless AND n.user_id = s.user_id AND n.start_time = s.start_time
    GROUP BY s.period
)
SELECT period, users, new_users, users - new_users AS returning_users, sessions,
       sessions / nullif(users, 0) AS sessions_per_user,
       sessions / all_sessions AS user_id_coverage,
       (SELECT coverage FROM cookie_coverage) AS coverage
FROM per
ORDER BY period NULLS FIRST
