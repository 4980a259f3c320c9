"""One session, one user: look them up by id (or a unique id prefix) over the whole dataset.

``rumq session ID`` and ``rumq user ID`` (rumq/cli/session_cmd.py) and the
notebook API (``Dataset.session``, ``Dataset.user``) call these functions.
They read the whole dataset, not a window: a session or a user is shown
whole. Ids are matched case-insensitively; a prefix must name exactly one id.

Order within a session is the views' (``rumq.views``): interaction depth
(NULLS LAST), then event time, then the event's line in its export file
(RUM times have whole-second precision).

A session is what the session views count: a session id whose events
disagree on cookies (the visitor accepted them mid-session) is two sessions,
its events without a user id a cookieless one and the rest a cookie one, as
in ``sessions/list``. ``rumq session`` shows each part; ``rumq user`` lists
the cookie parts only (the cookieless part carries no user id).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rumq.errors import AmbiguousIdError, UnknownIdError

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import polars as pl

#: Candidates named in an ambiguous-prefix error.
SHOWN_CANDIDATES = 5

# The essentials of each event, one text per event type (NULL parts are skipped by concat_ws).
_DETAIL = """
CASE
  WHEN event_name = 'page_view' THEN concat_ws(' ', 'interaction ' || interaction,
       CASE WHEN referrer IS NOT NULL THEN 'from ' || referrer END)
  WHEN event_name = 'js_error' THEN concat_ws(': ', error_type, error_message)
  WHEN event_name = 'http' THEN concat_ws(' ', http_method, http_url, '->',
       coalesce(CAST(http_status AS VARCHAR), 'no response'),
       CASE WHEN http_status IS NULL THEN concat_ws(': ', http_error_type, http_error_message) END)
  WHEN vital_value IS NOT NULL THEN upper(event_name) || ' ' || CAST(vital_value AS VARCHAR)
  WHEN event_name = 'navigation' THEN concat_ws(' ', navigation_type, CAST(duration AS VARCHAR) || ' ms')
  WHEN event_name = 'resource' THEN concat_ws(' ', target_url, CAST(duration AS VARCHAR) || ' ms')
  WHEN event_type NOT LIKE 'com.amazon.rum.%' THEN CAST(event_details AS VARCHAR)
END"""
_HTTP_FAILED = "coalesce(http_status >= 400, true)"


@dataclass(frozen=True)
class SessionDetail:
    """One session: its summary line and its events in order.

    A session id with events with and without a user id is two sessions, as
    in every session view: ``summary`` and ``events`` are then its cookie
    part (the session ``sessions/list`` shows by default) and
    ``cookieless_part`` the events without a user id (the cookieless session
    ``sessions/list`` adds with ``include_cookieless``).

    Attributes:
        summary: session_id, cookieless, user_id, application_id, browser, os,
            device, country, start (UTC), duration_s, events, page_views,
            js_errors, http_errors (failed requests: status >= 400 or none),
            errors, domains (the distinct ``metadata.domain`` values,
            comma-separated).
        events: one row per event: ``t_s`` (seconds since the session's first
            event), ``event_time``, ``event`` (short name or custom type),
            ``page`` (page id as sent), ``detail`` (the essentials: the error
            message, the request and its status, the vital's value...).
        cookieless_part: the cookieless session of the same id when the id
            also has a cookie session, else None.
    """

    summary: dict[str, Any]
    events: pl.DataFrame
    cookieless_part: SessionDetail | None = None

    def parts(self) -> list[SessionDetail]:
        """This session and its cookieless part (if any), the one that starts first first."""
        both = [self] + ([self.cookieless_part] if self.cookieless_part is not None else [])
        return sorted(both, key=lambda d: (d.summary["start"] is None, d.summary["start"], not d.summary["cookieless"]))

    def to_json(self) -> dict[str, Any]:
        """``{"session": {...}, "events": [...], "cookieless_part": {"session": ..., "events": ...} | null}``."""
        part = self.cookieless_part
        return {"session": self.summary, "events": self.events.to_dicts(),
                "cookieless_part": None if part is None else {"session": part.summary, "events": part.events.to_dicts()}}


def _connect(data_dir: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    from rumq import catalog

    return catalog.connect(data_dir, views=False)


def _release(con: duckdb.DuckDBPyConnection) -> None:
    from rumq import catalog

    catalog.release(con)  # closed, or left to the rumq script's exit


def _kept(data_dir: str | os.PathLike[str]) -> str:
    """`` AND <predicate>`` on the events the session views count under rumq.toml's ``[pages]``
    exclude / include (``rumq.views.on_kept_pages``): none of an excluded page's events."""
    from rumq.pages import load_config
    from rumq.views import on_kept_pages

    return on_kept_pages(load_config(data_dir=data_dir))


def resolve_id(con: duckdb.DuckDBPyConnection, column: str, given: str, what: str) -> str:
    """The one ``column`` value (session_id or user_id) that ``given`` is or starts.

    Raises:
        UnknownIdError: nothing matches.
        AmbiguousIdError: the prefix matches several ids (some are named).
    """
    assert column in ("session_id", "user_id")  # an identifier from an allow-list
    key = given.strip().lower()
    if not key:
        raise UnknownIdError(f"an empty {what} id", hint=f"give a {what} id or a unique prefix of one")
    found = [r[0] for r in con.execute(
        f"SELECT DISTINCT {column} FROM events WHERE starts_with(lower({column}), ?) ORDER BY 1 LIMIT ?",
        [key, SHOWN_CANDIDATES + 1]).fetchall()]
    exact = [f for f in found if f.lower() == key]
    if exact:
        return exact[0]
    if not found:
        raise UnknownIdError(
            f"no {what} with the id or id prefix {given!r} in the dataset",
            hint=f"`rumq run sessions/list` lists sessions with their {what} ids",
        )
    if len(found) > 1:
        shown = ", ".join(found[:SHOWN_CANDIDATES]) + (", ..." if len(found) > SHOWN_CANDIDATES else "")
        raise AmbiguousIdError(
            f"the {what} id prefix {given!r} matches more than one {what}: {shown}",
            hint="give more characters of the id",
        )
    return found[0]


def session_detail(data_dir: str | os.PathLike[str], session: str) -> SessionDetail:
    """One session's summary and events, by id or unique id prefix.

    An id with both a cookie and a cookieless part is returned as its cookie
    part with the cookieless one in ``cookieless_part`` (``SessionDetail``).

    Raises:
        DatasetError: no dataset there.
        UnknownIdError, AmbiguousIdError: the id does not name one session.
    """
    kept = _kept(data_dir)
    con = _connect(data_dir)
    try:
        sid = resolve_id(con, "session_id", session, "session")
        # One row per part, grouped as the session views group (cookieless is set on every row).
        rows = con.execute(f"""
            SELECT session_id, cookieless, min(user_id), min(application_id), min(browser_name), min(os_name),
                   min(device_type), min(country_code), min(event_time),
                   epoch(max(event_time)) - epoch(min(event_time)),
                   count(*),
                   count(*) FILTER (WHERE event_name = 'page_view'),
                   count(*) FILTER (WHERE event_name = 'js_error'),
                   count(*) FILTER (WHERE event_name = 'http' AND {_HTTP_FAILED}),
                   string_agg(DISTINCT domain, ',' ORDER BY domain)
            FROM events WHERE session_id = ?{kept} GROUP BY session_id, cookieless
            ORDER BY cookieless""", [sid]).fetchall()
        keys = ("session_id", "cookieless", "user_id", "application_id", "browser", "os", "device", "country",
                "start", "duration_s", "events", "page_views", "js_errors", "http_errors", "domains")
        parts = []
        for cols in rows:
            summary = dict(zip(keys, cols, strict=True))
            summary["errors"] = summary["js_errors"] + summary["http_errors"]
            events = con.sql(f"""
                SELECT epoch(event_time) - epoch(min(event_time) OVER ()) AS t_s, event_time,
                       event_name AS event, page_id AS page, {_DETAIL} AS detail
                FROM events WHERE session_id = $sid AND cookieless = $cookieless{kept}
                ORDER BY interaction NULLS LAST, event_time, source_line, event_id""",
                params={"sid": sid, "cookieless": summary["cookieless"]}).pl()
            parts.append(SessionDetail(summary, events))
    finally:
        _release(con)
    if not parts:
        raise UnknownIdError(
            f"the session {sid} has only events on pages that rumq.toml's [pages] exclude / include leaves out",
            hint="the session views do not count it either; without the rules it would show")
    if len(parts) == 2:  # ordered by cookieless: the cookie part first
        return SessionDetail(parts[0].summary, parts[0].events, parts[1])
    return parts[0]


def user_sessions(data_dir: str | os.PathLike[str], user: str) -> tuple[str, pl.DataFrame]:
    """A user's sessions, oldest first, with the summary line of each.

    The user's sessions are the cookie sessions (events with a user id) with
    an event of the user; the events of the same session id without a user id
    are a cookieless session, not the user's (``SessionDetail``), as in every
    session view. Every such session is listed, one without a page view too
    (``page_views`` 0; session-based queries do not count it). The entry and
    exit pages are those of the first and last page view in the views' order
    (``rumq.views``), NULL when that page view has no page id.

    Returns:
        The full user id and one row per session: session_id, start, duration_s,
        events, page_views, entry_page and exit_page (as sent), js_errors,
        http_errors, browser, device, country.

    Raises:
        DatasetError: no dataset there.
        UnknownIdError, AmbiguousIdError: the id does not name one user.
    """
    from rumq.views import ORDER_KEY

    kept = _kept(data_dir)
    con = _connect(data_dir)
    try:
        uid = resolve_id(con, "user_id", user, "user")
        df = con.sql(f"""
            WITH e AS (
                SELECT * FROM events
                WHERE NOT cookieless AND session_id IN (SELECT session_id FROM events WHERE user_id = $uid){kept}
            ),
            k AS (SELECT *, {ORDER_KEY} AS o FROM e)
            SELECT session_id, min(event_time) AS start,
                   epoch(max(event_time)) - epoch(min(event_time)) AS duration_s,
                   count(*) AS events,
                   count(*) FILTER (WHERE event_name = 'page_view') AS page_views,
                   arg_min_null(page_id, o) FILTER (WHERE event_name = 'page_view') AS entry_page,
                   arg_max_null(page_id, o) FILTER (WHERE event_name = 'page_view') AS exit_page,
                   count(*) FILTER (WHERE event_name = 'js_error') AS js_errors,
                   count(*) FILTER (WHERE event_name = 'http' AND {_HTTP_FAILED}) AS http_errors,
                   min(browser_name) AS browser, min(device_type) AS device, min(country_code) AS country
            FROM k GROUP BY session_id
            ORDER BY start, session_id""", params={"uid": uid}).pl()
    finally:
        _release(con)
    return uid, df


def header_line(summary: dict[str, Any]) -> str:
    """The one-line summary of a session, for people."""
    start = summary["start"]
    when = f"{start:%Y-%m-%d %H:%M:%S}Z" if start is not None else "-"
    return (
        f"session {summary['session_id']}  user {summary['user_id'] or '(cookieless)'}  {when}  "
        f"{summary['browser'] or '-'} / {summary['device'] or '-'} / {summary['country'] or '-'}  "
        f"duration {summary['duration_s']:g}s  pages {summary['page_views']}  errors {summary['errors']} "
        f"(js {summary['js_errors']}, http {summary['http_errors']})  events {summary['events']}  "
        f"domains {summary['domains'] or '-'}"
    )
