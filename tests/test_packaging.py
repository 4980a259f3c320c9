"""The query library ships inside the installed package (tested from a built wheel).

Offline and fast: the wheel is built without build isolation from a copy of
the source tree (so nothing is written into the working tree), then installed
with ``--no-deps --no-index`` into a fresh venv that borrows the dependencies
(DuckDB, Polars, Click...) from the project's venv through a path entry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: An extra query added to the copied tree only: proves nested folders ship
#: even while the built-in library is small.
PROBE = """\
-- ---
-- name: zz_probe/nested/probe
-- description: Packaging probe
-- params:
--   - {name: n, type: int, default: 1}
-- ---
SELECT $n AS n
"""


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RUMQ_QUERIES", "RUMQ_DATA")}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("pkg")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "rumq", src / "rumq", ignore=ignore)
    shutil.copytree(ROOT / "queries", src / "queries", ignore=ignore)
    probe = src / "queries" / "zz_probe" / "nested" / "probe.sql"
    probe.parent.mkdir(parents=True)
    probe.write_text(PROBE)

    # -x: skip checking the build requirements (the venv's setuptools builds it offline)
    r = _run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-x", "--outdir", str(work / "dist"), str(src)],
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (wheel,) = (work / "dist").glob("rumq-*.whl")

    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    r = _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q", str(wheel)])
    assert r.returncode == 0, r.stderr[-3000:]
    # Dependencies come from this venv's site-packages, added as a plain path
    # (its .pth files, including the editable rumq finder, are not processed).
    target = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    Path(target, "_deps_from_dev_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return work


@pytest.mark.slow
def test_wheel_contains_every_query_file(installed):
    (wheel,) = (installed / "dist").glob("rumq-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    source = {
        "rumq/queries/" + p.relative_to(ROOT / "queries").as_posix()
        for p in (ROOT / "queries").rglob("*")
        if p.suffix in (".sql", ".insights")
    }
    assert source <= names
    assert "rumq/queries/zz_probe/nested/probe.sql" in names
    assert "rumq/engines/portability.json" in names  # the built-ins' engines (docs/engines.md)
    assert "rumq/library_index.json" in names  # the built-ins' parsed headers (rumq.library_index)


@pytest.mark.slow
def test_installed_rumq_lists_and_runs_the_shipped_queries(installed, tmp_path):
    rumq = installed / "venv" / "bin" / "rumq"
    r = _run([str(rumq), "queries", "--format", "json"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    listed = {row["name"] for row in rows}
    expected = {
        p.relative_to(ROOT / "queries").with_suffix("").as_posix()
        for p in (ROOT / "queries").rglob("*")
        if p.suffix in (".sql", ".insights") and not any(s.startswith(("_", ".")) for s in p.parts)
    }
    assert expected | {"zz_probe/nested/probe"} == listed
    assert all(row["source"] == "built-in" for row in rows)
    # the shipped manifest answers for the real built-ins; the probe, not in it, is rendered
    assert {row["engines"] for row in rows} == {"duckdb,spark,trino"}
    # the rumq that answered is the installed one, not the source tree
    where = _run(
        [str(installed / "venv" / "bin" / "python"), "-c", "import rumq.queries; print(rumq.queries.__file__)"],
        cwd=tmp_path,
    ).stdout.strip()
    assert where.startswith(str(installed / "venv"))
    r = _run([str(rumq), "queries", "show", "zz_probe/nested/probe"], cwd=tmp_path)
    assert r.returncode == 0 and "SELECT $n AS n" in r.stdout
    # and a shipped query runs from the installed package
    from rumq.store import State, Store

    data = tmp_path / "data"
    Store(data).commit(State())  # an empty dataset
    r = _run([str(rumq), "--data", str(data), "run", "zz_probe/nested/probe", "-p", "n=7", "-f", "csv"], cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "n\n7\n"), r.stderr
