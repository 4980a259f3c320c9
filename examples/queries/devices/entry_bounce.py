# ---
# name: devices/entry_bounce
# description: Sessions and bounce rate per entry page and device type (a Polars query)
# definition: |
#   Sessions with a page view in the window (the sessions view), grouped by their entry page
#   (normalized) and device type: sessions = number of sessions; bounce_rate = sessions with
#   exactly one page view / sessions. Groups with fewer than min_sessions sessions are left
#   out. Cookieless sessions are excluded unless include_cookieless is true; coverage is the
#   share of the window's page views in cookie sessions. Ordered by sessions (most first),
#   then entry page and device type.
# session_based: true
# params:
#   - {name: min_sessions, type: int, default: 1, min: 1, help: Hide groups with fewer sessions}
#   - {name: include_cookieless, type: bool, default: false, help: Include cookieless sessions}
# columns:
#   - {name: entry_page, type: VARCHAR, meaning: Normalized first page of the session}
#   - {name: device_type, type: VARCHAR, meaning: "The session's device type (its smallest value)"}
#   - {name: sessions, type: BIGINT, meaning: Sessions}
#   - {name: bounce_rate, type: DOUBLE, meaning: Single-page-view sessions / sessions}
#   - {name: coverage, type: DOUBLE, meaning: "Share of the window's page views in cookie sessions"}
# ---
import polars as pl


def query(views, params):
    sessions = views.sessions
    if not params["include_cookieless"]:
        sessions = sessions.filter(~pl.col("cookieless"))
    return (
        sessions.group_by("entry_page", "device_type")
        .agg(pl.len().cast(pl.Int64).alias("sessions"), pl.col("bounced").mean().alias("bounce_rate"))
        .filter(pl.col("sessions") >= params["min_sessions"])
        .join(views.cookie_coverage.select("coverage"), how="cross")
        # after the join: a join does not keep the row order unless told to
        .sort(["sessions", "entry_page", "device_type"], descending=[True, False, False], nulls_last=True)
    )
