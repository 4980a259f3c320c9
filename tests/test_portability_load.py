"""Portability known when the library loads: built-ins from the shipped manifest, user files from a
cache keyed by their text, and neither a listing of built-ins nor `rumq run` on DuckDB imports sqlglot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import clirun
import pytest
from _query_data import ORDERED_PAGES as ORDERED
from _query_data import build_dataset

from rumq.engines import portability
from rumq.library import BUILTIN, Library, parse_query

# The same query made portable: what an edit to the file would do.
COUNTED = ORDERED.replace("list(page ORDER BY seq)", "count(*)").replace(" (DuckDB only, an ordered list)", "")



def rumq(cache: Path | str, *args: str) -> tuple[str, str, bool]:
    """``rumq ARGS`` in a fresh process with ``XDG_CACHE_HOME=cache``: (stdout, stderr, sqlglot imported)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("RUMQ_QUERIES", None)
    stdout, stderr, loaded = clirun.loaded_modules(list(args), ("sqlglot",), env=env)
    return stdout, stderr, "sqlglot" in loaded


def user_library(root: Path, text: str = ORDERED) -> Path:
    (root / "mine").mkdir(parents=True, exist_ok=True)
    (root / "mine" / "ordered_pages.sql").write_text(text, encoding="utf-8")
    return root


def test_the_builtin_manifest_is_fresh():
    """rumq/engines/portability.json is what rendering every built-in gives now (`make portability`
    writes it); a change to a query or to a renderer that changes an answer fails here."""
    builtins = Library(env={}).load().queries.values()
    shipped = json.loads(portability.MANIFEST.read_text(encoding="utf-8"))
    fresh = portability.manifest(builtins)
    assert shipped["sqlglot"] == fresh["sqlglot"], "sqlglot was upgraded: run `make portability`"
    assert shipped["queries"] == fresh["queries"], "stale manifest: run `make portability`"
    assert set(shipped["queries"]) == {q.name for q in builtins}


def test_the_manifest_answers_only_for_the_text_and_sqlglot_it_was_made_with(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    builtin = Library(env={}).get("pages/drop_off")
    assert portability.cached(builtin) == {"duckdb": None, "spark": None, "trino": None}
    edited = parse_query(builtin.text + "\n-- edited\n", path=builtin.path, expected_name=builtin.name,
                         kind="sql", source=BUILTIN)
    assert portability.cached(edited) is None  # a built-in edited in a source checkout: rendered again
    monkeypatch.setattr(portability, "sqlglot_version", lambda: "30.0.0")
    assert portability.cached(builtin) is None  # another sqlglot may render differently


def test_a_non_portable_user_file_is_named_when_the_library_loads(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lib = Library([user_library(tmp_path / "q")], env={})
    assert lib.engines(compute=False)["mine/ordered_pages"] is None  # nothing cached yet
    found = lib.engines()
    assert found["pages/drop_off"] == {"duckdb": None, "spark": None, "trino": None}
    mine = found["mine/ordered_pages"]
    assert mine["duckdb"] is None
    assert mine["spark"].startswith("list()/array_agg (Spark's collect_list keeps no order)")
    assert mine["trino"].startswith("list()/array_agg")
    assert Library([tmp_path / "q"], env={}).engines(compute=False) == found  # kept for later loads
    kept = tmp_path / "cache" / "rumq" / "portability"
    assert len(list(kept.glob("*.json"))) == 1 and not list(kept.glob(".*"))  # no temporary file left


def test_editing_the_file_invalidates_its_entry(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lib_dir = user_library(tmp_path / "q")
    assert Library([lib_dir], env={}).engines()["mine/ordered_pages"]["spark"] is not None
    user_library(lib_dir, COUNTED)
    lib = Library([lib_dir], env={})
    assert lib.engines(compute=False)["mine/ordered_pages"] is None  # the old answer is not reused
    assert lib.engines()["mine/ordered_pages"] == {"duckdb": None, "spark": None, "trino": None}


@pytest.mark.parametrize("cache", ["a-file", "corrupt"])
def test_an_unusable_cache_never_breaks_a_command(monkeypatch, tmp_path, cache):
    """A cache path that cannot be a directory (even for root) or entries that are not JSON: the answer
    is computed each time and the command succeeds."""
    from clirun import invoke

    lib_dir = user_library(tmp_path / "q")
    if cache == "a-file":
        (tmp_path / "xdg").write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if cache == "corrupt":
        assert Library([lib_dir], env={}).engines()
        entries = list(portability.cache_dir().glob("*.json"))
        assert len(entries) == 1
        entries[0].write_text('{"engines": {"duckdb": nul')
    code, out, err = invoke(["queries", "--queries", str(lib_dir), "--format", "json"], env={"RUMQ_QUERIES": None})
    assert code == 0, err
    row = next(r for r in json.loads(out) if r["name"] == "mine/ordered_pages")
    assert row["engines"] == "duckdb" and row["portability"].startswith("not portable: spark: list()/array_agg")


def test_a_cache_hit_imports_no_sqlglot_and_run_never_does(tmp_path):
    """The issue's cost bar: listing the built-ins and `rumq run` on DuckDB never import sqlglot; a user
    file's first listing does (it is rendered), every later one reads the cache."""
    cache = tmp_path / "cache"
    lib_dir = str(user_library(tmp_path / "q"))
    out, _, imported = rumq(cache, "queries", "--format", "json")
    assert not imported and {r["engines"] for r in json.loads(out)} == {"duckdb,spark,trino"}

    cold, err, imported = rumq(cache, "queries", "--queries", lib_dir, "--format", "json")
    assert imported
    assert "notice: mine/ordered_pages is not portable: spark: list()/array_agg" in err
    warm, err2, imported = rumq(cache, "queries", "--queries", lib_dir, "--format", "json")
    assert not imported and warm == cold and err2 == err

    (tmp_path / "ds").mkdir()
    data = str(build_dataset(tmp_path / "ds"))
    for args in (("run", "sessions/summary"), ("run", "mine/ordered_pages", "--queries", lib_dir)):
        out, err, imported = rumq(tmp_path / "empty-cache", "--data", data, *args, "--format", "json")
        assert json.loads(out) and not imported, args
        assert "portable" not in err  # a DuckDB run says nothing of other engines (docs/queries.md)


def test_the_fingerprint_covers_every_rumq_module_a_check_loads(tmp_path):
    """The cache key hashes the files of rumq's renderers; a module the check uses and the key does not
    cover would let an edit to it reuse stale answers in a source checkout."""
    user_library(tmp_path / "q")
    (tmp_path / "q" / "mine" / "errs.insights").write_text(
        "# ---\n# name: mine/errs\n# description: errors per hour\n# ---\n"
        "filter event_type like /error/ | stats count(*) as n by bin(1h)\n", encoding="utf-8")
    probe = (
        "import sys\n"
        "from rumq.engines import portability\n"
        "from rumq.library import Library\n"
        f"lib = Library([{str(tmp_path / 'q')!r}], env={{}})\n"
        "for q in lib.load().queries.values():\n"
        "    portability.engines(q)\n"
        "print('\\n'.join(getattr(m, '__file__', None) or '' for n, m in list(sys.modules.items())"
        " if n.startswith('rumq.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    loaded = {Path(f).resolve() for f in out.stdout.split() if f}
    covered = set(portability.renderer_files())
    outside = {f for f in loaded - covered
               # the query and its parsing (library_index: the built-ins' headers), not the renderer
               if f.name not in ("library.py", "library_index.py") and f.parent.name != "queries"}
    assert loaded & covered and outside == set(), sorted(map(str, outside))


def test_a_polars_query_is_listed_as_polars_and_never_rendered(monkeypatch, tmp_path):
    from clirun import invoke

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    examples = Path(__file__).resolve().parent.parent / "examples" / "queries"
    q = Library([examples], env={}).get("devices/entry_bounce")
    assert q.kind == "polars" and portability.cached(q) == dict.fromkeys(portability.REPORTED, portability.POLARS_ONLY)
    code, out, err = invoke(["queries", "--queries", str(examples), "--format", "json"], env={"RUMQ_QUERIES": None})
    assert code == 0, err
    row = next(r for r in json.loads(out) if r["name"] == "devices/entry_bounce")
    assert (row["engines"], row["portability"]) == ("polars", "") and "devices/entry_bounce" not in err
    code, out, err = invoke(["queries", "show", "devices/entry_bounce", "--queries", str(examples)])
    assert code == 0 and "engines:\n  polars: yes (a .py query runs in Polars only)\n" in out


def test_the_listing_keeps_its_columns_and_names_only_the_rows_shown(monkeypatch, tmp_path):
    from clirun import invoke

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lib_dir = str(user_library(tmp_path / "q"))
    code, out, err = invoke(["queries", "--queries", lib_dir, "-f", "csv"], env={"RUMQ_QUERIES": None})
    assert code == 0 and out.splitlines()[0] == "name,kind,source,params,description,engines,portability"
    assert "notice: mine/ordered_pages is not portable" in err
    code, out, err = invoke(["queries", "--queries", lib_dir, "-f", "csv", "--limit", "1"], env={"RUMQ_QUERIES": None})
    assert code == 0 and len(out.splitlines()) == 2 and "not portable" not in err


def test_the_old_engines_flag_is_still_accepted():
    import clirun

    a = clirun.invoke(["queries", "--format", "json"])
    b = clirun.invoke(["queries", "--engines", "--format", "json"])
    assert a[0] == b[0] == 0
    assert a[1] == b[1] and '"engines"' in a[1]
