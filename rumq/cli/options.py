"""Reusable option bundles for the query commands (run, sql, insights, report...).

Apply them as decorators; each adds its options and nothing else::

    @click.command()
    @output_options
    @time_window_options
    @queries_option
    def run(fmt, output, limit, since, until, app, queries_dirs): ...

The vocabulary is the same on every command (docs/cli.md has the table):
``-f/--format`` is always the output format, ``-o/--output`` a file whose
known extension selects the format, ``--limit`` the row cap, and
``--since/--until/--app`` the window.

``emit`` writes a result where the output options say; ``notice`` writes a
diagnostic to stderr (stdout carries data only).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from rumq.errors import RumqError
from rumq.formats import EXTENSIONS, FORMATS, MAX_LIMIT, require_file_for_binary

if TYPE_CHECKING:
    import polars as pl

    from rumq.render import Rows  # pragma: no cover

F = TypeVar("F", bound=Callable[..., Any])

#: Formats of the commands that print a summary rather than a table (info, rejects, ingest).
SUMMARY_FORMATS = ("table", "json")


class LegacyFile(str):
    """``insights -f FILE`` as earlier rumq versions read it: a query file where a format is expected."""


class FormatChoice(click.Choice):
    """An output format, case-insensitive; optionally also an old-style ``-f FILE`` (insights)."""

    def __init__(self, choices: tuple[str, ...], *, legacy_file: bool = False) -> None:
        super().__init__(choices, case_sensitive=False)
        self.legacy_file = legacy_file

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and self.legacy_file and value.lower() not in self.choices:
            import os

            if value == "-" or os.path.isfile(value):
                return LegacyFile(value)
        return super().convert(value, param, ctx)


def resolve_format(fmt: str | None, output: str | None) -> str:
    """The format to write: ``--format``, else ``-o``'s known extension, else ``table``.

    Raises:
        click.UsageError: ``--format`` contradicts ``-o``'s extension.
        rumq.errors.UsageError: parquet to stdout.
    """
    import os

    implied = EXTENSIONS.get(os.path.splitext(output)[1].lower()) if output else None
    if fmt is None:
        fmt = implied or "table"
    elif implied is not None and implied != fmt:
        raise click.UsageError(
            f"-o {output} is a .{output.rsplit('.', 1)[-1]} file but --format is {fmt}: "
            f"drop --format (the extension selects {implied}) or give a matching file name"
        )
    require_file_for_binary(fmt, output)
    return fmt


def output_options(f: F | None = None, *, legacy_file: str | None = None) -> Any:
    """``-f/--format``, ``-o/--output`` and ``--limit``: the same on every query command.

    The command receives ``fmt`` already resolved (``resolve_format``): the
    format named, else the one ``-o``'s extension implies, else ``table``.

    Args:
        legacy_file: the parameter that receives an old-style ``-f FILE``
            (``rumq insights``, where ``-f`` used to be ``--file``), with a
            deprecation warning; None: ``-f`` takes formats only.
    """

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            fmt = kwargs["fmt"]
            if legacy_file is not None:
                # -f was --file here: `-f q.insights --format csv` must still work,
                # so the option collects every -f/--format given.
                files = [v for v in fmt if isinstance(v, LegacyFile)]
                named = sorted({v for v in fmt if not isinstance(v, LegacyFile)})
                if len(named) > 1:
                    raise click.UsageError(f"--format given twice: {' and '.join(named)}")
                if files:
                    if len(files) > 1 or kwargs.get(legacy_file) is not None:
                        raise click.UsageError("give the query file once, with --file FILE")
                    notice(f"warning: `-f {files[0]}` as a query file is deprecated: use --file {files[0]} "
                           "(-f is --format on every command)")
                    kwargs[legacy_file] = str(files[0])
                fmt = named[0] if named else None
            kwargs["fmt"] = resolve_format(fmt, kwargs["output"])
            return f(*args, **kwargs)

        wrapper = click.option(
            "--limit",
            type=click.IntRange(min=0, max=MAX_LIMIT),
            default=None,
            help="Return at most N rows.",
            metavar="N",
        )(wrapper)
        wrapper = click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, writable=True),
            default=None,
            help=(
                "Write the result to FILE instead of stdout (required for parquet). A known "
                "extension (.csv .tsv .json .jsonl .parquet .md) selects the format."
            ),
        )(wrapper)
        wrapper = click.option(
            "-f",
            "--format",
            "fmt",
            type=FormatChoice(FORMATS, legacy_file=legacy_file is not None),
            multiple=legacy_file is not None,
            default=None,
            help="Output format [default: from -o's extension, else table].",
        )(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorate(f) if f is not None else decorate


def summary_format_options(f: F | None = None, *, legacy_input: tuple[str, ...] = ()) -> Any:
    """``-f/--format table|json`` and its alias ``--json``, for commands that print a summary.

    The command receives ``as_json`` (True for ``--format json`` or ``--json``).

    Args:
        legacy_input: input formats ``--format`` used to take (``rumq ingest``,
            where it is now ``--input-format``); such a value goes to the
            command's ``fmt`` parameter with a deprecation warning.
    """

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            out = kwargs.pop("summary_fmt")
            if out in legacy_input:
                given = kwargs.get("fmt")
                if given is not None and given != out:
                    raise click.UsageError(f"--format {out} contradicts --input-format {given}")
                notice(f"warning: `--format {out}` for the input is deprecated: use --input-format {out} "
                       "(--format is the output format on every command)")
                kwargs["fmt"], out = out, None
            if kwargs["as_json"] and out == "table":
                raise click.UsageError("--json contradicts --format table")
            kwargs["as_json"] = kwargs["as_json"] or out == "json"
            return f(*args, **kwargs)

        wrapper = click.option(
            "--json", "as_json", is_flag=True, help="Same as --format json."
        )(wrapper)
        wrapper = click.option(
            "-f",
            "--format",
            "summary_fmt",
            type=click.Choice(SUMMARY_FORMATS + legacy_input, case_sensitive=False),
            metavar="[" + "|".join(SUMMARY_FORMATS) + "]",  # the legacy input names stay out of help
            default=None,
            help="Output format: table (text for people, the default) or json.",
        )(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorate(f) if f is not None else decorate


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
        metavar="APP",
        help=(
            "Only events of this application: its app monitor id, a unique prefix of the id, "
            "or its name as `rumq info` shows it."
        ),
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
            "a date (2026-11-01), an ISO-8601 timestamp (2026-11-01T06:00:00Z; UTC unless "
            "an offset is given), now, today or yesterday (midnight UTC). Default: all data."
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


def text_output(fmt: str | None, output: str | None) -> bool:
    """Whether the output is text, so the result may come as DuckDB rows (no Polars import)."""
    return resolve_format(fmt, output) != "parquet"


def emit(df: pl.DataFrame | Rows, fmt: str, output: str | None) -> None:
    """Write ``df`` in ``fmt`` (resolved by ``output_options``) to ``output`` or stdout.

    Raises:
        rumq.errors.UsageError: parquet to stdout.
    """
    from rumq.render import render

    fmt = resolve_format(fmt, output)
    if output:
        render(df, fmt, output)
        return
    stream = sys.stdout
    render(df, fmt, stream)
    stream.flush()


def query_text(text: str, source: str) -> str:
    """A query as given on the command line, refused when its bytes were not UTF-8.

    Python hands undecodable bytes of argv (and of stdin, in some locales) over
    as lone surrogates; left in, they fail deep inside DuckDB or a hash.

    Raises:
        rumq.errors.QuerySyntaxError: the text is not UTF-8 (line, column, caret).
    """
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    try:
        data = text.encode("utf-8", "surrogateescape")  # back to the bytes given
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    return query_bytes(data, source)


def read_query_stdin(source: str) -> str:
    """The query on stdin, read as bytes so that bad UTF-8 gets a position (see ``query_bytes``)."""
    stream = getattr(sys.stdin, "buffer", None)
    return query_bytes(stream.read(), source) if stream is not None else query_text(sys.stdin.read(), source)


def query_bytes(data: bytes, source: str) -> str:
    """``data`` decoded as UTF-8.

    Args:
        data: the query's bytes.
        source: what it is, for the message ("the SQL", "query file q.insights").

    Raises:
        rumq.errors.QuerySyntaxError: the bytes are not UTF-8 (line, column, caret).
    """
    from rumq.errors import QuerySyntaxError, line_column

    try:
        # Newlines as a text-mode read gives them (universal newlines), as before.
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as e:
        before = data[: e.start].decode("utf-8")
        line, column = line_column(before, len(before))
        raise QuerySyntaxError(
            f"{source} is not valid UTF-8 (byte 0x{data[e.start]:02x})",
            # U+FFFD stands in for the bad bytes, so the caret lines up and stderr can print it.
            text=data.decode("utf-8", "replace"),
            line=line,
            column=column,
            hint="save the query as UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)",
        ) from None
