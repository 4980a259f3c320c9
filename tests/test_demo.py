"""`rumq demo`: the first-run tour works on the bundled sample data and is safe."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from rumq.cli import cli
from rumq.demo import SECTIONS
from rumq.errors import ExitCode

SAMPLE = Path(__file__).parent.parent / "sample_data" / "exports"


def test_demo_tours_the_sample_data(tmp_path):
    into = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["demo", "--into", str(into), "--sample", str(SAMPLE)])
    assert res.exit_code == 0, res.output
    out = res.stdout
    for title in ("Sessions and cookie coverage", "Top journeys", "Where sessions end", "Error sessions",
                  "Slowest pages by LCP", "Go further"):
        assert f"{title}" in out
    assert "0 rejected" in out and "duplicates dropped" in out
    assert (into / "_rumq" / "state.json").exists()
    # a second demo replaces its own dataset
    res2 = CliRunner().invoke(cli, ["demo", "--into", str(into), "--sample", str(SAMPLE)])
    assert res2.exit_code == 0
    assert res2.stdout.splitlines()[4:] == out.splitlines()[4:]


def test_demo_never_touches_a_directory_it_did_not_make(tmp_path):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    res = CliRunner().invoke(cli, ["demo", "--into", str(precious), "--sample", str(SAMPLE)])
    assert res.exit_code == ExitCode.FAILURE
    assert "not made by `rumq demo`" in res.stderr
    assert (precious / "notes.txt").read_text() == "keep me"


@pytest.fixture(scope="module")
def tour(tmp_path_factory) -> str:
    into = tmp_path_factory.mktemp("tour") / "demo dir"  # a space: the commands must quote it
    res = CliRunner().invoke(cli, ["demo", "--into", str(into), "--sample", str(SAMPLE)])
    assert res.exit_code == 0, res.output
    return res.stdout


def _sections(text: str) -> list[tuple[str, list[str], str]]:
    """(title, argv of the `$ ` line, the table below it up to the blank line) per section."""
    out = []
    blocks = text.split("\n## ")[1:]
    for b in blocks:
        lines = b.split("\n")
        i = next(k for k, line in enumerate(lines) if line.startswith("$ "))
        end = lines.index("", i)
        out.append((lines[0], shlex.split(lines[i][2:]), "\n".join(lines[i + 1:end]) + "\n"))
    return out


def test_every_demo_table_is_what_its_command_prints(tour):
    sections = _sections(tour)
    assert [t for t, _, _ in sections] == [s.title for s in SECTIONS]
    for title, argv, table in sections:
        assert argv[0] == "rumq" and argv[3] == "run", title
        res = CliRunner().invoke(cli, argv[1:], env={"RUMQ_QUERIES": ""})
        assert res.exit_code == 0, (title, res.output)
        assert res.stdout == table, title
        assert len(table.splitlines()) >= 3, title  # a header, a rule and at least one row


def test_the_slowest_pages_table_is_sorted_by_p75(tour):
    (_, argv, table), = [s for s in _sections(tour) if s[0] == "Slowest pages by LCP"]
    assert ["-p", "sort=p75"] == argv[argv.index("sort=p75") - 1: argv.index("sort=p75") + 1]
    header, _, *rows = table.splitlines()
    p75 = [float(r.split()[header.split().index("p75")]) for r in rows]
    samples = [int(r.split()[header.split().index("samples")]) for r in rows]
    assert len(rows) == 5 and p75 == sorted(p75, reverse=True)
    assert min(samples) >= 20 and {r.split()[1] for r in rows} == {"LCP"}
