"""``rumq report FILE``: a thin shell over ``rumq.report.run_report``."""

from __future__ import annotations

import datetime as dt

import click

from rumq.cli import data_dir_of
from rumq.cli.options import queries_option
from rumq.errors import ExitCode


def _log(message: str) -> None:
    """Timestamped log line on stderr (schedulers keep stderr in their journal)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    click.echo(f"{now} rumq report: {message}", err=True)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--at",
    metavar="TIME",
    default=None,
    help=(
        "Run as if at TIME (backfills): an ISO-8601 timestamp (UTC unless an offset is given), "
        "or a date, which means the end of that day (--at 2026-11-01 with window 'yesterday' "
        "reports on 2026-11-01). Default: now."
    ),
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help=(
        "Output directory; the run writes OUT/<window name>/ (e.g. 2026-11-25/). Default: the "
        "definition's `out`, else rumq-reports/<report name>."
    ),
)
@click.option(
    "--no-wait",
    is_flag=True,
    help="Exit with code 4 instead of waiting when another run of the report holds its lock.",
)
@queries_option
@click.pass_context
def report(
    ctx: click.Context, file: str, at: str | None, out_dir: str | None, no_wait: bool,
    queries_dirs: tuple[str, ...],
) -> None:
    """Run the report defined in FILE (TOML) and write its folder.

    The folder holds report.html (self-contained, charts inline), report.md,
    one CSV and one Parquet file per section, and run.json. Re-running the
    same window replaces the folder atomically; a failed run leaves the
    previous one untouched. The definition is checked before any query runs.
    Breached thresholds are printed to stderr and exit with code 5. The
    report folder's path is printed to stdout; logs go to stderr.

    The dataset is the definition's `dataset`, unless --data is given on the
    command line (then --data wins); RUMQ_DATA and the default apply when the
    definition names none.

    \b
    Examples:
      rumq report reports/daily.toml
      rumq report reports/daily.toml --at 2026-11-01 --out /srv/rum-reports
      rumq report reports/weekly.toml --no-wait
    """
    from click.core import ParameterSource

    from rumq.report import run_report

    root = ctx.find_root()
    explicit = root.get_parameter_source("data_dir") == ParameterSource.COMMANDLINE
    result = run_report(
        file,
        at=at,
        out_dir=out_dir,
        data_dir=data_dir_of(ctx) if explicit else None,
        default_data_dir=data_dir_of(ctx),
        queries=list(queries_dirs),
        wait=not no_wait,
        notify=_log,
    )
    for t in result.breaches:
        _log(f"ALARM: {t.message()}")
    click.echo(str(result.folder))
    if result.breaches:
        ctx.exit(int(ExitCode.THRESHOLD))
