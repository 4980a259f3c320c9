"""``rumq queries``, ``rumq run`` and ``rumq sql``: thin shells over ``rumq.runner``."""

from __future__ import annotations

import click

from rumq.cli import data_dir_of
from rumq.cli.engine_opts import engine_options, print_athena_sql
from rumq.cli.options import (
    emit,
    notice,
    output_options,
    queries_option,
    query_text,
    read_query_stdin,
    text_output,
    time_window_options,
)


def _library(dirs: tuple[str, ...]):  # -> rumq.library.Library
    from rumq.library import Library

    return Library(dirs)


@click.group(invoke_without_command=True)
@output_options
@queries_option
# Accepted for scripts written before the engines column was always shown; it changes nothing.
@click.option("--engines", "_engines", is_flag=True, hidden=True)
@click.pass_context
def queries(ctx: click.Context, fmt: str, output: str | None, limit: int | None,
            queries_dirs: tuple[str, ...], _engines: bool) -> None:
    """List the named queries with their engines and one-line descriptions.

    Built-in queries ship with rumq; user libraries come from --queries DIR
    and RUMQ_QUERIES. A malformed query file is reported on stderr and the
    others are still listed. The engines column says where each query runs
    exactly (duckdb, spark, trino; polars for a .py query); a query that does
    not run everywhere gets a notice on stderr naming the construct. User
    files are checked the first time they are listed and the answer is
    cached (docs/queries.md).

    \b
    Examples:
      rumq queries
      rumq queries --queries ./my-queries --format json
      rumq queries show pages/drop_off
    """
    ctx.ensure_object(dict)
    ctx.obj["queries_dirs"] = queries_dirs
    if ctx.invoked_subcommand is not None:
        return
    from rumq.engines.portability import label, note

    library = _library(queries_dirs)
    listing = library.load()
    for n in listing.notices:
        notice(n)
    for problem in listing.problems:
        click.echo(f"warning: {problem.message}", err=True)
    found = library.engines()
    rows = []
    for i, q in enumerate(listing.queries.values()):
        why = note(q, found[q.name])
        if why and (limit is None or i < limit):  # notices for the rows shown
            notice(f"{q.name} is {why}")
        rows.append({
            "name": q.name,
            "kind": q.kind,
            "source": q.source,
            "engines": label(q, found[q.name]),
            "params": ", ".join(p.name for p in q.params),
            "description": q.description,
            "portability": why or "",
        })
    columns = ["name", "engines", "description", "params"] if fmt == "table" else list(_LISTING)
    if text_output(fmt, output):  # plain strings: no Polars needed to write text
        from rumq.render import Rows

        listing_rows = Rows(columns, ["str"] * len(columns), [tuple(r[c] for c in columns) for r in rows])
        emit(listing_rows.head(limit) if limit is not None else listing_rows, fmt, output)
        return
    import polars as pl

    df = pl.DataFrame(rows, schema=dict.fromkeys(_LISTING, pl.String)).select(columns)
    emit(df.head(limit) if limit is not None else df, fmt, output)


# The columns of the other formats; the two about engines come last, after the columns that older
# rumq versions listed in this order.
_LISTING = ("name", "kind", "source", "params", "description", "engines", "portability")


@queries.command("show")
@click.argument("name")
@queries_option
@click.pass_context
def show(ctx: click.Context, name: str, queries_dirs: tuple[str, ...]) -> None:
    """Print a query's header, parameters and SQL.

    \b
    Example:
      rumq queries show pages/drop_off
    """
    from rumq.library import BUILTIN

    dirs = tuple(queries_dirs) + tuple(ctx.obj.get("queries_dirs", ()) if ctx.obj else ())
    lib = _library(dirs)
    q = lib.get(name)
    for n in lib.notices_for(name):
        notice(n)
    where = "built-in" if q.source == BUILTIN else f"from {q.source}"
    out = [f"{q.name} ({q.kind}, {where}: {q.path})", q.description, ""]
    if q.params:
        out.append("parameters (-p NAME=VALUE):")
        width = max(len(p.name) for p in q.params)
        for p in q.params:
            default = "required" if p.required else f"default {p.show(p.default)}"
            line = f"  {p.name.ljust(width)}  {p.type}, {default}; {p.accepted()}"
            if p.help:
                line += f". {p.help}"
            out.append(line)
    else:
        out.append("parameters: none")
    if q.session_based:
        out.append("session-based: results carry a `coverage` column; a warning is shown below 90%")
    from rumq.engines.portability import of

    out.append("engines:")
    if q.kind == "polars":
        out.append("  polars: yes (a .py query runs in Polars only)")
    else:
        for engine, why in (of(q) or {}).items():
            out.append(f"  {engine}: {'yes' if why is None else 'no, ' + why}")
    out += ["", q.text.rstrip("\n")]
    click.echo("\n".join(out))


@click.command()
@click.argument("name")
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A query parameter (repeatable; repeating a list parameter adds to the list).",
)
@click.option("--allow-writes", is_flag=True, help="Let the SQL write files, attach databases, load extensions and change settings (default: read-only).")
@click.option("--estimate", is_flag=True,
              help="Scale the count-like columns to the full traffic by the session sample rate of rumq.toml.")
@engine_options
@time_window_options
@output_options
@queries_option
@click.pass_context
def run(
    ctx: click.Context,
    name: str,
    params: tuple[str, ...],
    since: str | None,
    until: str | None,
    app: str | None,
    fmt: str,
    output: str | None,
    limit: int | None,
    queries_dirs: tuple[str, ...],
    allow_writes: bool,
    estimate: bool,
    engine: str,
    spark_master: str | None,
    print_sql: bool,
    athena_table: str,
) -> None:
    """Run the named query NAME and print its result.

    `rumq queries` lists the names; `rumq queries show NAME` shows a query's
    parameters. A list parameter takes commas or a JSON array; choices match
    case-insensitively. The time window is half-open (--since inclusive,
    --until exclusive) and in UTC; a window without events says so on stderr.

    \b
    Examples:
      rumq run pages/drop_off --since 7d -p top=10
      rumq run errors/rate_per_session -p dimension=browser -o rates.csv
      rumq run funnels/conversion -p 'steps=["/product/:id","/cart","/checkout"]'
      rumq run sessions/summary --since 2026-11-01 --until 2026-11-02 --format json
      rumq run pages/drop_off --engine spark --spark-master 'local[4]'
      rumq run pages/drop_off --engine polars
      rumq run pages/drop_off --engine athena --print-sql --since 2026-11-01 --until 2026-11-08
    """
    from rumq.params import parse_assignments

    if estimate and (engine != "duckdb" or print_sql):
        raise click.UsageError("--estimate runs on DuckDB only (not with --engine spark/athena or --print-sql)")
    if print_athena_sql(engine, print_sql, "query_statement", name, parse_assignments(params),
                        data_dir=data_dir_of(ctx), since=since, until=until, app=app, table=athena_table,
                        library=_library(queries_dirs)):
        return

    if engine == "polars":  # the built-in's Polars twin (docs/engines.md, Polars)
        from rumq.engines.polars_twins import run_twin

        emit(run_twin(data_dir_of(ctx), name, parse_assignments(params), since=since, until=until, app=app,
                      limit=limit, library=_library(queries_dirs), notify=notice), fmt, output)
        return
    if engine == "spark":
        from rumq.engines.spark import run_query as run_on_spark

        df = run_on_spark(data_dir_of(ctx), name, parse_assignments(params), since=since, until=until, app=app,
                          limit=limit, library=_library(queries_dirs), notify=notice, master=spark_master,
                          rows=text_output(fmt, output))
        emit(df, fmt, output)
        return
    from rumq.runner import run_query

    df = run_query(
        data_dir_of(ctx),
        name,
        parse_assignments(params),
        since=since,
        until=until,
        app=app,
        limit=limit,
        library=_library(queries_dirs),
        notify=notice,
        allow_writes=allow_writes or None,
        rows=text_output(fmt, output),
        estimate=estimate,
    )
    emit(df, fmt, output)


@click.command()
@click.argument("text", metavar="SQL")
@click.option("--allow-writes", is_flag=True, help="Let the SQL write files, attach databases, load extensions and change settings (default: read-only).")
@engine_options
@time_window_options
@output_options
@click.pass_context
def sql(
    ctx: click.Context,
    text: str,
    since: str | None,
    until: str | None,
    app: str | None,
    fmt: str,
    output: str | None,
    limit: int | None,
    allow_writes: bool,
    engine: str,
    spark_master: str | None,
    print_sql: bool,
    athena_table: str,
) -> None:
    """Run any SQL over the dataset's views ('-' reads it from stdin).

    The views (events, page_views, sessions, ...) hold only the events of the
    time window and application given. A failing statement prints DuckDB's
    message and exits 1. SQL runs read-only: it can read the dataset's own
    files and nothing else, and COPY, EXPORT, ATTACH, INSTALL/LOAD and SET
    exit 2 unless --allow-writes is given.

    \b
    Examples:
      rumq sql "SELECT event_name, count(*) AS n FROM events GROUP BY ALL ORDER BY n DESC"
      rumq sql --since 1d --format csv "SELECT * FROM page_views" > page_views.csv
      rumq sql --engine spark "SELECT page, count(*) AS n FROM page_views GROUP BY page"
    """
    text = read_query_stdin("the SQL") if text == "-" else query_text(text, "the SQL")
    if print_athena_sql(engine, print_sql, "sql_statement", text, data_dir=data_dir_of(ctx), since=since,
                        until=until, app=app, table=athena_table):
        return
    if engine == "polars":
        raise click.UsageError("--engine polars runs named queries (rumq run): SQL text runs on DuckDB or Spark")
    if engine == "spark":  # DuckDB-dialect SQL rendered for Spark (docs/engines.md)
        from rumq.engines.spark import run_sql as run_on_spark

        emit(run_on_spark(data_dir_of(ctx), text, since=since, until=until, app=app, limit=limit,
                          master=spark_master), fmt, output)
        return
    from rumq.runner import run_sql

    df = run_sql(data_dir_of(ctx), text, since=since, until=until, app=app, limit=limit,
                 allow_writes=allow_writes or None, notify=notice, rows=text_output(fmt, output))
    emit(df, fmt, output)
