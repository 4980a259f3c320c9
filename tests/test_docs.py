"""Docs are tested: every command has help and a section in docs/cli.md with
its options; every exit code is documented; every built-in query documents
itself (description, definition, columns, parameter help)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from rumq.cli import COMMANDS, cli
from rumq.errors import ExitCode
from rumq.library import Library

DOCS = Path(__file__).resolve().parent.parent / "docs"
CLI_MD = (DOCS / "cli.md").read_text()


def _command(name: str) -> click.Command:
    cmd = cli.get_command(click.Context(cli), name)
    assert cmd is not None, name
    return cmd


def _all_commands() -> list[tuple[str, click.Command]]:
    out = []
    for name in sorted(COMMANDS):
        cmd = _command(name)
        out.append((name, cmd))
        if isinstance(cmd, click.Group):
            for sub in sorted(cmd.commands):
                out.append((f"{name} {sub}", cmd.commands[sub]))
    return out


@pytest.mark.parametrize("name, cmd", _all_commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_command_has_help(name, cmd):
    assert (cmd.help or "").strip(), f"`rumq {name}` has no help text"
    assert cmd.get_short_help_str().strip()
    for param in cmd.params:
        if isinstance(param, click.Option) and not param.hidden and param.name != "help":
            assert (param.help or "").strip(), f"`rumq {name}` option {param.opts} has no help"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_a_section_in_cli_md(name):
    assert re.search(rf"^## `rumq {re.escape(name)}`", CLI_MD, re.M), (
        f"docs/cli.md has no '## `rumq {name}`' section"
    )


@pytest.mark.parametrize("name, cmd", _all_commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_option_is_in_cli_md(name, cmd):
    for param in cmd.params:
        if isinstance(param, click.Option) and param.name != "help":
            longs = [o for o in param.opts if o.startswith("--")]
            assert any(o in CLI_MD for o in longs), f"docs/cli.md does not mention {longs} of `rumq {name}`"


def test_global_options_and_exit_codes_documented():
    assert "--data" in CLI_MD and "RUMQ_DATA" in CLI_MD and "RUMQ_QUERIES" in CLI_MD
    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \|", CLI_MD, re.M), f"exit code {int(code)} ({code.name}) undocumented"


def test_help_runs_for_every_command():
    from click.testing import CliRunner

    runner = CliRunner()
    for name, _ in _all_commands():
        result = runner.invoke(cli, [*name.split(), "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage: " in result.output


BUILTINS = Library(env={}).load()


def test_builtin_library_has_no_problems():
    assert [str(p) for p in BUILTINS.problems] == []


@pytest.mark.parametrize("name", sorted(BUILTINS.queries) or ["(none yet)"])
def test_builtin_query_documents_itself(name):
    if name == "(none yet)":
        pytest.skip("the built-in library is empty")
    q = BUILTINS.queries[name]
    assert q.description, "no description"
    assert len(q.definition.split()) >= 8, "the definition should say in words how columns are computed"
    assert q.columns, "no documented columns"
    for c in q.columns:
        assert c.type and c.meaning, f"column {c.name} lacks a type or meaning"
    for p in q.params:
        assert p.help, f"parameter {p.name} has no help line"
    if q.session_based:
        assert "coverage" in {c.name for c in q.columns}, "session-based queries return coverage"
        # users/*: cookieless traffic has no user id, so there is nothing to include.
        if not name.startswith("users/"):
            assert q.param("include_cookieless") is not None, "session-based queries take include_cookieless"


def test_docs_queries_md_describes_every_param_type():
    from rumq.params import TYPES

    text = (DOCS / "queries.md").read_text()
    for t in TYPES:
        assert f"`{t}`" in text
