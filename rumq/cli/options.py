"""Reusable option bundles for the query commands (run, sql, insights, report...).

Apply them as decorators; each adds its options and nothing else::

    @click.command()
    @output_options
    @time_window_options
    @queries_option
    def run(fmt, output, since, until, app, queries): ...

``emit`` writes a result where the output options say; ``notice`` writes a
diagnostic to stderr (stdout carries data only).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from rumq.errors import RumqError

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

F = TypeVar("F", bound=Callable[..., Any])

#: Kept in sync with rumq.render.FORMATS (a test checks), without importing it at start-up.
FORMATS = ("table", "csv", "tsv", "json", "jsonl", "parquet", "markdown")


def output_options(f: F) -> F:
    """``--format/-f``, ``--output/-o`` and ``--limit``."""
    f = click.option(
        "--limit",
        type=click.IntRange(min=0),
        default=None,
        help="Return at most N rows.",
        metavar="N",
    )(f)
    f = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, writable=True),
        default=None,
        help="Write the result to FILE instead of stdout (required for parquet).",
    )(f)
    f = click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format.",
    )(f)
    return f


def _parse_bound(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check a --since/--until value early so a bad one is a usage error."""
    if value is None:
        return None
    from rumq.timewindow import parse_time

    try:
        parse_time(value, option=f"--{param.name}")
    except RumqError as e:
        raise click.BadParameter(e.message + (f" ({e.hint})" if e.hint else "")) from None
    return value


def time_window_options(f: F) -> F:
    """``--since``, ``--until`` (half-open UTC window) and ``--app``."""
    f = click.option(
        "--app",
        default=None,
        metavar="ID",
        help="Only events of this application (app monitor) id.",
    )(f)
    f = click.option(
        "--until",
        default=None,
        metavar="TIME",
        callback=_parse_bound,
        help="End of the time window (exclusive); same forms as --since. Default: no end.",
    )(f)
    f = click.option(
        "--since",
        default=None,
        metavar="TIME",
        callback=_parse_bound,
        help=(
            "Start of the time window (inclusive): a duration back from now (7d, 12h, 1h30m), "
            "a date (2026-11-01) or an ISO-8601 timestamp (2026-11-01T06:00:00Z; UTC unless "
            "an offset is given). Default: all data."
        ),
    )(f)
    return f


def queries_option(f: F) -> F:
    """``--queries DIR`` (repeatable): user query libraries, searched before the built-ins."""
    return click.option(
        "--queries",
        "queries_dirs",
        multiple=True,
        type=click.Path(exists=True, file_okay=False),
        metavar="DIR",
        help=(
            "A user query library (repeatable; searched in order, then RUMQ_QUERIES, "
            "then the built-ins)."
        ),
    )(f)


def notice(message: str) -> None:
    """Write a notice or warning to stderr."""
    click.echo(message if message.startswith(("warning:", "notice:")) else f"notice: {message}", err=True)


def emit(df: pl.DataFrame, fmt: str, output: str | None) -> None:
    """Write ``df`` in ``fmt`` to ``output`` or stdout.

    Raises:
        click.UsageError: parquet to stdout.
    """
    from rumq.render import render

    if output:
        render(df, fmt, output)
        return
    if fmt == "parquet":
        raise click.UsageError("parquet output is binary: give a file with -o FILE")
    stream = sys.stdout
    render(df, fmt, stream)
    stream.flush()
