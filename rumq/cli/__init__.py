"""The ``rumq`` command: a thin Click shell over the library.

Each command lives in its own module under ``rumq.cli`` and is imported only
when it runs (or when help lists it), so ``rumq --help`` stays instant.
Errors are translated once, here: a ``RumqError`` becomes its message on
stderr and its exit code; stdout carries data only.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from rumq import __version__
from rumq.errors import ExitCode, RumqError, file_access_error
from rumq.interrupt import caused_by_interrupt

#: command name -> "module:attribute" (module relative to rumq.cli)
COMMANDS: dict[str, str] = {
    "ingest": "ingest_cmd:ingest",
    "info": "ingest_cmd:info",
    "rejects": "ingest_cmd:rejects",
    "compact": "ingest_cmd:compact",
    "migrate": "ingest_cmd:migrate",
    "demo": "demo_cmd:demo",
    "queries": "query_cmd:queries",
    "run": "query_cmd:run",
    "sql": "query_cmd:sql",
    "insights": "insights_cmd:insights",
    "generate": "generate_cmd:generate",
    "report": "report_cmd:report",
    "athena": "athena_cmd:athena",
    "session": "session_cmd:session",
    "user": "session_cmd:user",
}

#: Commands that only read: the console script ends them without the interpreter's
#: teardown, their read-only DuckDB connections left to the exit (``main``).
QUICK_EXIT = frozenset({"queries", "run", "sql", "insights", "session", "user"})


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(f"rumq.cli.{module}"), attr)

    def invoke(self, ctx: click.Context) -> Any:
        # Errors are translated once, here, so in-process callers (CliRunner,
        # tests) see the same message and exit code as the console script.
        try:
            return super().invoke(ctx)
        except RumqError as e:
            if caused_by_interrupt(e):
                raise KeyboardInterrupt from None
            click.echo(f"error: {e}", err=True)
            ctx.exit(int(e.exit_code))
        except OSError as e:
            # The safety net for a file the user pointed at (or cannot write:
            # permissions, /proc, a full disk) where no code path said what it
            # was doing: its path and the OS's reason, not a traceback. An
            # OSError without a path is not the user's: it stays a traceback.
            if e.filename is None:
                raise
            err = file_access_error(e)
            click.echo(f"error: {err}", err=True)
            ctx.exit(int(err.exit_code))
        except Exception as e:
            if caused_by_interrupt(e):
                raise KeyboardInterrupt from None
            # DuckDB failing where rumq did not expect it (out of memory, disk
            # full): a message, not a traceback; the dataset is as it was.
            duckdb = sys.modules.get("duckdb")
            if duckdb is None or not isinstance(e, duckdb.Error):
                raise
            click.echo(f"error: DuckDB: {e}", err=True)
            if isinstance(e, duckdb.OutOfMemoryException):
                click.echo("  hint: nothing was committed by this command; raise RUMQ_MEMORY_LIMIT (a query "
                           "may use half of physical memory unless it says otherwise) or free memory, and "
                           "retry", err=True)
            elif isinstance(e, duckdb.IOException):
                click.echo("  hint: nothing was committed by this command; free memory or disk and retry", err=True)
            else:
                click.echo("  hint: nothing was committed by this command; this looks like a rumq bug: "
                           "please report it with the input that caused it", err=True)
            ctx.exit(int(ExitCode.FAILURE))

    #: The subcommand of the last run, and whether the ``rumq`` script runs it (``main``'s quick exit).
    resolved: str | None = None
    script: bool = False

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        LazyGroup.resolved = name or None
        if LazyGroup.script and name in QUICK_EXIT:
            from rumq import catalog

            catalog.process_ends_after_command()  # its read-only connections are left to the exit
        if name and not name.startswith("-") and name not in COMMANDS:
            import difflib

            close = difflib.get_close_matches(name, COMMANDS, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise click.UsageError(f"No such command '{name}'.{hint}", ctx)
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="rumq")
@click.option(
    "--data",
    "data_dir",
    envvar="RUMQ_DATA",
    default="rumq-data",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Dataset directory, or an s3://bucket/prefix/ URL (env RUMQ_DATA).",
)
@click.pass_context
def cli(ctx: click.Context, data_dir: str) -> None:
    """rumq: query Amazon CloudWatch RUM exports locally.

    Ingest RUM exports (S3 export tasks, Firehose objects, CLI dumps, API
    records) into a Parquet dataset, then ask it questions with named queries,
    SQL, or Logs Insights queries.

    \b
    Exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 rejects under
    --strict, 4 dataset locked, 5 report threshold breached, 130 interrupted
    (Ctrl-C).
    """
    if not data_dir:
        # Path("") is the current directory: an unset variable must not make it the dataset.
        raise click.BadParameter("it is empty; give a directory ('.' for the current one) or an s3:// URL",
                                 ctx, param_hint="'--data' / RUMQ_DATA")
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI, mapping errors to exit codes.

    Run as the ``rumq`` script (``argv`` None), a command of ``QUICK_EXIT``
    ends the process once its output is flushed and the ``atexit`` handlers
    have run, skipping the interpreter's teardown of every module (DuckDB's
    Python layer among them): about 26 ms after a query at 5M events on a 2-core
    VM, with nothing left to write; its read-only DuckDB connections are not
    closed either (``rumq.catalog.release``: 21-26 ms before that). Called with ``argv``
    (tests, embedding), it closes them and raises ``SystemExit`` as usual.
    """
    LazyGroup.script = argv is None
    try:
        _main(argv)
    except SystemExit as e:
        if argv is None and LazyGroup.resolved in QUICK_EXIT:
            _quick_exit(e.code)
        raise


def _quick_exit(code: object) -> None:
    """Flush, run the ``atexit`` handlers and end the process with ``code`` (``_main``'s exit code).

    Returns (so the caller exits the usual way) when a thread that is not a
    daemon still runs: the interpreter's exit would wait for it.
    """
    import atexit
    import threading

    if not isinstance(code, int) or any(not t.daemon for t in threading.enumerate()
                                        if t is not threading.main_thread()):
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away: not an error of ours (as in _main)
        pass
    except (OSError, ValueError):
        return  # let the interpreter report it as it would
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    atexit._run_exitfuncs()
    from rumq import catalog

    catalog.remove_spill_directory()  # what DuckDB spilled for the connections left open
    os._exit(code & 0xFF)


def _main(argv: list[str] | None) -> None:
    from rumq.interrupt import ctrl_c_interrupts

    try:
        # With standalone_mode=False, click returns (not raises) the code of ctx.exit().
        with ctrl_c_interrupts():  # Ctrl-C stops a running DuckDB statement at once
            code = cli.main(args=argv, prog_name="rumq", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort as e:
        # Click turns Ctrl-C (KeyboardInterrupt) into Abort: the same message and code as ours below.
        if isinstance(e.__context__, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        click.echo("Aborted.", err=True)
        sys.exit(ExitCode.FAILURE)
    except click.ClickException as e:
        e.show()
        sys.exit(ExitCode.USAGE if e.exit_code == 2 else e.exit_code)
    except RumqError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(int(e.exit_code))
    except BrokenPipeError:
        # `rumq run ... | head`: the reader went away; not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(ExitCode.OK)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    sys.exit(ExitCode.OK)


def data_dir_of(ctx: click.Context) -> str:
    """The dataset directory chosen by the global --data option."""
    return ctx.find_root().obj["data_dir"]
