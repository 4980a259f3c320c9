"""`rumq demo`: the first-run tour works on the bundled sample data and is safe."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from rumq.cli import cli
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
