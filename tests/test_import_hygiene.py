"""Whole `rumq` processes import only what the output needs: text formats never load
Polars or pyarrow, and `rumq --help` loads none of DuckDB, Polars, pyarrow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import clirun
import pytest
from _query_data import build_dataset

HEAVY = ("duckdb", "polars", "pyarrow")



@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return build_dataset(tmp_path_factory.mktemp("ds"))


def rumq(*args: str) -> tuple[str, set[str]]:
    stdout, _, loaded = clirun.loaded_modules(list(args), HEAVY)
    return stdout, loaded


def test_help_imports_no_heavy_module():
    stdout, loaded = rumq("--help")
    assert "Usage:" in stdout
    assert loaded == set()


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_run_text_formats_skip_polars_and_pyarrow(data, fmt):
    stdout, loaded = rumq("--data", str(data), "run", "sessions/summary", "--format", fmt)
    assert loaded == {"duckdb"}
    assert stdout.strip()


def test_sql_json_skips_polars_and_pyarrow(data):
    stdout, loaded = rumq("--data", str(data), "sql", "SELECT 1 AS one, 'x' AS s", "--format", "json")
    assert json.loads(stdout) == [{"one": 1, "s": "x"}]
    assert loaded == {"duckdb"}


def test_insights_json_skips_polars_and_pyarrow(data):
    stdout, loaded = rumq("--data", str(data), "insights", "stats count(*) as n", "--format", "json")
    assert list(json.loads(stdout)[0]) == ["n"]
    assert loaded == {"duckdb"}


def test_parquet_output_still_uses_polars(data, tmp_path):
    target = tmp_path / "out.parquet"
    _, loaded = rumq("--data", str(data), "sql", "SELECT 1 AS one", "-o", str(target))
    assert "polars" in loaded
    assert target.read_bytes()[:4] == b"PAR1"


def test_queries_listing_imports_no_heavy_module():
    stdout, loaded = rumq("queries", "--format", "json")
    names = [q["name"] for q in json.loads(stdout)]
    assert "sessions/summary" in names
    assert loaded == set()


def test_help_does_not_load_the_ingest_pipeline():
    # `rumq --help` lists `ingest` with its --input-format choices: those names come from
    # rumq.ingest.formats, not from the readers and the pipeline behind them.
    code = ("import sys\nfrom rumq.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('rumq.ingest')), file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().splitlines()[-1] == "['rumq.ingest', 'rumq.ingest.formats']"


# What a run on a local dataset has no use for: the YAML parser (built-ins' headers are shipped
# parsed), TOML (no rumq.toml), the object store client (a local path), the did-you-mean matcher
# (no mistake) and importlib.resources' readers (the built-ins are a folder on disk).
UNUSED = ("yaml", "tomllib", "rumq.objectstore", "difflib", "importlib.readers")


def test_a_run_on_a_local_dataset_loads_nothing_it_does_not_use(data):
    stdout, _, loaded = clirun.loaded_modules(["--data", str(data), "run", "sessions/summary", "--format",
                                               "json"], UNUSED)
    assert json.loads(stdout) and loaded == set()
    # The watch sees them when they are used: a misspelt parameter asks difflib.
    out = subprocess.run([sys.executable, "-c", "import sys\nfrom rumq.params import resolve\n"
                          "from rumq.library import Library\nq = Library().get('sessions/summary')\n"
                          "try:\n    resolve(q.params, {'include_cookiles': 'true'}, query=q.name)\n"
                          "except Exception as e:\n    print(e, 'difflib' in sys.modules)\n"],
                         capture_output=True, text=True)
    assert "did you mean 'include_cookieless'?" in out.stdout and out.stdout.strip().endswith("True")


def test_the_builtin_folder_is_the_one_importlib_resources_gives():
    from importlib import resources

    from rumq.library import package_root
    from rumq.objectstore import is_url
    from rumq.store import Store

    assert package_root("rumq.queries") == resources.files("rumq.queries")
    for root in ("s3://bucket/rumq/", "rumq-data", "/data/s3://x", "S3://bucket/x"):
        assert Store(root).remote == is_url(root), root
