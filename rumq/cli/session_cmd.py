"""``rumq session ID`` and ``rumq user ID``: one session's events, one user's sessions."""

from __future__ import annotations

import sys

import click

from rumq.cli import data_dir_of
from rumq.cli.options import summary_format_options


def _write_json(value: object) -> None:
    from rumq.render import _json_bytes

    sys.stdout.write(_json_bytes(value).decode("utf-8") + "\n")
    sys.stdout.flush()


@click.command()
@click.argument("session_id", metavar="ID")
@summary_format_options
@click.pass_context
def session(ctx: click.Context, session_id: str, as_json: bool) -> None:
    """Print one session's events in order, under a summary line.

    ID is a session id or a unique prefix of one (case-insensitive). The
    summary line gives the user, browser, device, country, duration, page
    views and errors; each event row its time since the session's first
    event, type, page and essentials (the error message, the request and its
    status, the vital's value). An id whose events without a user id precede
    or follow events with one (consent given mid-session) is two sessions, as
    in sessions/list: each is printed, summary and events, oldest first. The
    whole dataset is searched (no window). An unknown id or a prefix of
    several exits with 2. `--format json` prints one object: {"session":
    {...}, "events": [...], "cookieless_part": {"session": ..., "events":
    ...} or null}.
    """
    from rumq.render import render
    from rumq.sessions import header_line, session_detail

    detail = session_detail(data_dir_of(ctx), session_id)
    if as_json:
        _write_json(detail.to_json())
        return
    for part in detail.parts():
        click.echo(header_line(part.summary))
        render(part.events, "table", sys.stdout)
        sys.stdout.flush()


@click.command()
@click.argument("user_id", metavar="ID")
@summary_format_options
@click.pass_context
def user(ctx: click.Context, user_id: str, as_json: bool) -> None:
    """List one user's sessions, oldest first, with a summary line each.

    ID is a user id (the cwr_u cookie) or a unique prefix of one
    (case-insensitive); the whole dataset is searched. Each row: session id,
    start, duration, events, page views, entry and exit page, JS and HTTP
    errors, browser, device, country (`rumq session ID` shows one). Events of
    the same session id without a user id are a cookieless session, not the
    user's (as in sessions/list). An unknown
    id or a prefix of several exits with 2. `--format json` prints one object:
    {"user_id": ..., "sessions": [...]}.
    """
    from rumq.render import render
    from rumq.sessions import user_sessions

    uid, df = user_sessions(data_dir_of(ctx), user_id)
    if as_json:
        _write_json({"user_id": uid, "sessions": df.to_dicts()})
        return
    click.echo(f"user {uid}  sessions {df.height}")
    render(df, "table", sys.stdout)
    sys.stdout.flush()
