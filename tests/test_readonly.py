"""SQL runs read-only: every escape is refused with a clear error, exit 2, and
nothing written; --allow-writes (and its settings) lifts it.

Each escape is tried through `rumq sql`, the notebook API's `ds.sql()`, a user
query file (`rumq run`) and a report section. The file system is compared
before and after each attempt. The DuckDB restriction is also tested on its
own (a raw catalog connection, without rumq's statement check), so either
layer alone holds for what it covers.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import clirun
import duckdb
import pytest
from _query_data import build_dataset, write_library

import rumq
from rumq import catalog
from rumq.errors import ExitCode, QueryExecutionError, ReadOnlyError
from rumq.report import run_report
from rumq.store import Store


def invoke(args: list[str], *, env: dict[str, str] | None = None):
    """``rumq ARGS`` without any rumq.toml setting: (code, stdout, stderr)."""
    return clirun.invoke(args, env={"RUMQ_CONFIG": "", **(env or {})})


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative path -> sha256), and every directory."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """``root/data`` (the sample dataset: 8 page views over 2026-11-01..03) and
    ``root/outside`` with files that are not the dataset's."""
    root = tmp_path_factory.mktemp("ro")
    build_dataset(root)
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("token\nhunter2\n")
    (outside / "secret.txt").write_text("hunter2\n")
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 'hunter2' AS token) TO '{outside / 'secret.parquet'}'")
    con.close()
    return root


@pytest.fixture
def cwd(site, monkeypatch) -> Path:
    """Run in the site root, so that relative paths would land there too."""
    monkeypatch.chdir(site)
    monkeypatch.delenv("RUMQ_CONFIG", raising=False)
    return site


def escapes(site: Path) -> dict[str, str]:
    out = site / "outside"
    files = Store(site / "data").event_files(None, None) if (site / "data").exists() else []
    day_file = files[0] if files else "(a dataset file)"
    return {
        "copy_to": f"COPY (SELECT 1 AS a) TO '{out / 'copy.csv'}'",
        "copy_to_relative": "COPY (SELECT 1 AS a) TO 'somewhere.csv'",
        "copy_over_dataset_file": f"COPY (SELECT 1 AS a) TO '{day_file}' (FORMAT parquet, USE_TMP_FILE false)",
        "copy_after_select": f"SELECT 1; COPY (SELECT 1 AS a) TO '{out / 'second.csv'}'",
        "explain_analyze_copy": f"EXPLAIN ANALYZE COPY (SELECT 1 AS a) TO '{out / 'explain.csv'}'",
        "attach": f"ATTACH '{out / 'x.db'}' AS x",
        "create_table_file_db": f"ATTACH '{out / 'y.db'}' AS y; CREATE TABLE y.t AS SELECT 1 AS a",
        "export_database": f"EXPORT DATABASE '{out / 'export'}'",
        "install": "INSTALL httpfs",
        "load": "LOAD httpfs",
        "load_file": f"LOAD '{out / 'evil.duckdb_extension'}'",
        "read_csv": f"SELECT * FROM read_csv('{out / 'secret.csv'}')",
        "read_parquet": f"SELECT * FROM read_parquet('{out / 'secret.parquet'}')",
        "read_text": f"SELECT * FROM read_text('{out / 'secret.txt'}')",
        "read_csv_system": "SELECT * FROM read_csv('/etc/passwd', sep = ':')",
        "set_external_access": "SET enable_external_access = true",
        "reset_external_access": "RESET enable_external_access",
        "unlock": "SET lock_configuration = false",
        "set_allowed_directories": f"SET allowed_directories = ['{out}']",
        "set_variable_files": f"SET VARIABLE rumq_files = ['{out / 'secret.parquet'}']",
    }


ESCAPES = list(escapes(Path("/x")))


@pytest.mark.parametrize("name", ESCAPES)
def test_cli_sql_refuses_escape(cwd, name):
    before = tree(cwd)
    code, out, err = invoke(["--data", "data", "sql", escapes(cwd)[name]])
    assert code == ExitCode.USAGE == 2, err
    assert out == ""
    assert err.startswith("error: SQL ") and ("read-only" in err or "refused" in err), err
    assert "--allow-writes" in err and "Traceback" not in err
    assert tree(cwd) == before


@pytest.mark.parametrize("name", ESCAPES)
def test_api_sql_refuses_escape(cwd, name):
    before = tree(cwd)
    ds = rumq.open(cwd / "data")
    with pytest.raises(ReadOnlyError) as e:
        ds.sql(escapes(cwd)[name])
    assert e.value.exit_code == ExitCode.USAGE
    assert tree(cwd) == before


@pytest.mark.parametrize("name", ESCAPES)
def test_user_query_file_refuses_escape(cwd, tmp_path, name):
    body = escapes(cwd)[name]
    lib = write_library(tmp_path / "lib", {"evil/q.sql": (
        "-- ---\n-- name: evil/q\n-- description: tries to escape\n-- ---\n" + body + "\n")})
    before = tree(cwd)
    code, out, err = invoke(["--data", "data", "run", "evil/q", "--queries", str(lib)])
    assert code == 2, err
    assert out == "" and "query 'evil/q'" in err and "--allow-writes" in err
    assert tree(cwd) == before


# The escapes DuckDB itself refuses on a restricted connection, without rumq's
# statement check (COPY onto a dataset file needs that check; see below).
DUCKDB_REFUSES = [n for n in ESCAPES if n not in ("copy_over_dataset_file", "set_variable_files")]


@pytest.mark.parametrize("name", DUCKDB_REFUSES)
def test_restricted_connection_refuses_without_the_statement_check(cwd, name):
    before = tree(cwd)
    con = catalog.connect(cwd / "data")
    try:
        with pytest.raises(duckdb.Error) as e:
            con.execute(escapes(cwd)[name]).fetchall()
        assert catalog.read_only_error(e.value) is not None, e.value
    finally:
        con.close()
    assert tree(cwd) == before


def test_set_variable_cannot_point_the_views_elsewhere(cwd):
    # SET VARIABLE is not a setting, so DuckDB allows it; the files stay unreadable.
    con = catalog.connect(cwd / "data")
    try:
        con.execute("SET VARIABLE rumq_files = ?::VARCHAR[]", [[str(cwd / "outside" / "secret.parquet")]])
        with pytest.raises(duckdb.PermissionException):
            con.sql("SELECT count(*) FROM events").fetchall()
    finally:
        con.close()


def test_copy_over_a_dataset_file_is_what_the_statement_check_is_for(cwd):
    """allowed_paths does not tell reads from writes: the check must catch it."""
    day_file = Store(cwd / "data").event_files(None, None)[0]
    before = tree(cwd)
    con = catalog.connect(cwd / "data")
    try:
        with pytest.raises(ReadOnlyError, match="COPY"):
            catalog.check_read_only(con, escapes(cwd)["copy_over_dataset_file"])
    finally:
        con.close()
    assert tree(cwd) == before and Path(day_file).stat().st_size > 100


def test_configuration_is_locked(cwd):
    con = catalog.connect(cwd / "data")
    try:
        settings = dict(con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', "
            "'lock_configuration', 'autoinstall_known_extensions', 'autoload_known_extensions')").fetchall())
        assert settings == {"enable_external_access": "false", "lock_configuration": "true",
                            "autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET memory_limit = '1GB'").fetchall()
    finally:
        con.close()


# -- what read-only still does --------------------------------------------------------


def test_reads_still_work(cwd):
    ds = rumq.open(cwd / "data")
    # 8 page views in the sample (see _query_data.sample_messages).
    assert ds.sql("SELECT count(*) AS n FROM page_views")["n"].to_list() == [8]
    # The dataset's own files, by the catalog's file list.
    assert ds.sql("SELECT count(*) AS n FROM read_parquet(getvariable('rumq_files'))")["n"].to_list() == [8]
    assert "column_name" in ds.sql("DESCRIBE events").columns
    assert ds.sql("EXPLAIN ANALYZE SELECT count(*) FROM sessions").height >= 1
    assert ds.sql("PRAGMA table_info('events')").height > 10
    # Sessions on 2026-11-01: ...1 (/home, /cart), ...2, ...3 -> 3 sessions.
    df = ds.run("sessions/summary", since="2026-11-01", until="2026-11-02")
    assert df["sessions"].to_list() == [3]
    assert ds.insights("stats count(*) as n")["n"].to_list() == [8]


def test_cli_run_and_insights_work_read_only(cwd):
    code, out, err = invoke(["--data", "data", "run", "sessions/summary", "--format", "csv",
                             "--until", "2026-11-03"])
    assert code == 0, err
    # Cookie sessions on days 1-2: ...1, ...2, ...3, ...4, ...5 -> 5; page views 3+1+3 = 7.
    header, row = out.splitlines()
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert (values["sessions"], values["page_views"]) == ("5", "7")
    code, out, err = invoke(["--data", "data", "insights", "filter event_type like /page_view/ | stats count(*) as n",
                             "--format", "csv"])
    assert (code, out) == (0, "n\n8\n"), err


def test_only_the_window_files_are_readable(cwd):
    data = cwd / "data"
    files = Store(data).event_files(None, None)
    day1 = next(f for f in files if "2026-11-01" in f)
    ds = rumq.open(data)
    assert ds.sql(f"SELECT count(*) AS n FROM read_parquet('{day1}')")["n"].to_list() == [4]
    with pytest.raises(ReadOnlyError, match="dataset's own files"):
        ds.sql(f"SELECT count(*) FROM read_parquet('{day1}')", since="2026-11-02")


def test_spilling_to_the_temp_directory_still_works(tmp_path):
    sql = "SELECT count(*) FROM (SELECT i, md5(i::VARCHAR) AS m FROM range(600000) t(i) ORDER BY m)"
    for spill in (None, tmp_path / "spill"):
        con = catalog.new_connection()
        con.execute("SET memory_limit = '16MB'").fetchall()
        con.execute("SET threads = 1").fetchall()
        con.execute("SET temp_directory = ?", [str(spill) if spill else ""]).fetchall()
        catalog.restrict(con, [])
        try:
            if spill is None:  # the control: this sort does not fit in memory
                with pytest.raises(duckdb.OutOfMemoryException):
                    con.execute(sql).fetchall()
            else:
                assert con.execute(sql).fetchall() == [(600000,)]
        finally:
            con.close()


@pytest.mark.parametrize("sql", [
    "SELECT 1", "WITH x AS (SELECT 1) SELECT * FROM x", "FROM range(3)", "DESCRIBE SELECT 1",
    "SHOW TABLES", "SUMMARIZE SELECT 1", "PRAGMA version", "CALL pragma_version()",
    "EXPLAIN SELECT 1", "-- why\nEXPLAIN ANALYZE (FORMAT json) SELECT 1", "SELECT 1; SELECT 2",
])
def test_statement_check_lets_reads_through(sql):
    con = duckdb.connect()
    catalog.check_read_only(con, sql)


@pytest.mark.parametrize("sql, word", [
    ("CREATE TABLE t AS SELECT 1", "CREATE"), ("INSERT INTO t VALUES (1)", "INSERT"),
    ("SET VARIABLE v = 1", "SET"), ("EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1", "CREATE"),
    ("/* x */ EXPLAIN ANALYZE COPY (SELECT 1) TO 'd.csv'", "COPY"), ("DETACH memory", "DETACH"),
])
def test_statement_check_refuses_the_rest(sql, word):
    con = duckdb.connect()
    with pytest.raises(ReadOnlyError, match=word):
        catalog.check_read_only(con, sql)


def test_sql_that_does_not_parse_is_a_query_error_not_a_read_only_one(cwd):
    with pytest.raises(QueryExecutionError, match="syntax"):
        rumq.open(cwd / "data").sql("SELEC 1")


# -- lifting it -----------------------------------------------------------------------


def test_allow_writes_lets_copy_write(cwd, tmp_path):
    target = tmp_path / "ok.csv"
    code, out, err = invoke(["--data", "data", "sql", "--allow-writes", f"COPY (SELECT 42 AS a) TO '{target}'"])
    assert code == 0, err
    assert target.read_text() == "a\n42\n"


def test_allow_writes_on_run_and_api(cwd, tmp_path):
    lib = write_library(tmp_path / "lib", {"w/copy.sql": (
        "-- ---\n-- name: w/copy\n-- description: writes a file\n-- ---\n"
        f"COPY (SELECT 7 AS a) TO '{tmp_path / 'run.csv'}'\n")})
    code, _, err = invoke(["--data", "data", "run", "w/copy", "--queries", str(lib), "--allow-writes"])
    assert code == 0, err
    assert (tmp_path / "run.csv").read_text() == "a\n7\n"
    ds = rumq.open(cwd / "data")
    ds.sql(f"COPY (SELECT 8 AS a) TO '{tmp_path / 'api.csv'}'", allow_writes=True)
    assert (tmp_path / "api.csv").read_text() == "a\n8\n"
    rumq.open(cwd / "data", allow_writes=True).sql(f"COPY (SELECT 9 AS a) TO '{tmp_path / 'ds.csv'}'")
    assert (tmp_path / "ds.csv").read_text() == "a\n9\n"


def test_rumq_toml_setting(cwd, tmp_path, monkeypatch):
    cfg = tmp_path / "rumq.toml"
    cfg.write_text("[sql]\nallow_writes = true\n")
    monkeypatch.setenv("RUMQ_CONFIG", str(cfg))
    ds = rumq.open(cwd / "data")
    ds.sql(f"COPY (SELECT 1 AS a) TO '{tmp_path / 'toml.csv'}'")
    assert (tmp_path / "toml.csv").read_text() == "a\n1\n"
    # An explicit allow_writes=False wins over the file.
    with pytest.raises(ReadOnlyError):
        ds.sql(f"COPY (SELECT 1 AS a) TO '{tmp_path / 'no.csv'}'", allow_writes=False)
    assert not (tmp_path / "no.csv").exists()
    cfg.write_text("[sql]\nallow_writes = 'yes'\n")
    code, _, err = invoke(["--data", "data", "sql", "SELECT 1"], env={"RUMQ_CONFIG": str(cfg)})
    assert code == 2 and "sql.allow_writes must be true or false" in err


# -- reports ---------------------------------------------------------------------------

REPORT = """\
window = "1d"
queries = ["lib"]
{extra}
[[section]]
id = "evil"
query = "evil/q"
chart = "none"
"""


def _report(root: Path, body: str, extra: str = "") -> Path:
    write_library(root / "lib", {"evil/q.sql": (
        "-- ---\n-- name: evil/q\n-- description: a report-side query\n-- ---\n" + body + "\n")})
    path = root / "r.toml"
    path.write_text(REPORT.format(extra=extra))
    return path


def test_report_section_is_read_only(cwd, tmp_path):
    definition = _report(tmp_path, f"SELECT * FROM read_csv('{cwd / 'outside' / 'secret.csv'}')")
    out = tmp_path / "out"
    with pytest.raises(ReadOnlyError):
        run_report(definition, at="2026-11-02", out_dir=out, data_dir=cwd / "data")
    assert not (out / "2026-11-02").exists()
    code, stdout, err = invoke(["--data", "data", "report", str(definition), "--at", "2026-11-02", "--out", str(out)])
    assert code == 2 and stdout == "" and "refused" in err


def test_report_allow_writes(cwd, tmp_path):
    target = tmp_path / "from-report.csv"
    definition = _report(tmp_path, f"COPY (SELECT 5 AS a) TO '{target}'", extra="allow_writes = true")
    run_report(definition, at="2026-11-02", out_dir=tmp_path / "out", data_dir=cwd / "data")
    assert target.read_text() == "a\n5\n"


def test_report_allow_writes_must_be_a_bool(tmp_path):
    from rumq.errors import ReportDefinitionError
    from rumq.report import load

    definition = _report(tmp_path, "SELECT 1 AS a", extra='allow_writes = "yes"')
    with pytest.raises(ReportDefinitionError, match="r.toml:3: 'allow_writes' must be true or false"):
        load(definition)


def test_memory_limit_defaults_to_half_of_physical_memory(monkeypatch):
    monkeypatch.delenv("RUMQ_MEMORY_LIMIT", raising=False)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    con = catalog.new_connection()
    try:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()
    value, unit = limit.split()
    got = float(value) * {"MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit]
    assert abs(got - total / 2) < total * 0.01, (limit, total)


def test_memory_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("RUMQ_MEMORY_LIMIT", "512MB")
    con = catalog.new_connection()
    try:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "488.2 MiB"
    finally:
        con.close()


@pytest.mark.parametrize("value", ["lots", "4", "-1GB", "4 GB; SET x = 1"])
def test_a_bad_memory_limit_is_a_usage_error(site, monkeypatch, value):
    code, out, err = invoke(["--data", str(site / "data"), "run", "sessions/summary"],
                            env={"RUMQ_MEMORY_LIMIT": value})
    assert code == ExitCode.USAGE and out == ""
    assert "RUMQ_MEMORY_LIMIT" in err and "4GB" in err and "Traceback" not in err


def test_a_query_spills_under_the_system_temp_directory_not_the_working_directory(tmp_path, monkeypatch):
    # DuckDB's own default would be ./.tmp: a cron job's query would write where it stands.
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    monkeypatch.setenv("RUMQ_MEMORY_LIMIT", "16MB")
    con = catalog.new_connection()
    con.execute("SET threads = 1").fetchall()
    catalog.restrict(con, [])
    spill = Path(catalog.spill_directory())
    try:
        sql = "SELECT count(*) FROM (SELECT i, md5(i::VARCHAR) AS m FROM range(600000) t(i) ORDER BY m)"
        assert con.execute(sql).fetchall() == [(600000,)]
        assert spill.parent == tmp_path / "tmp" and spill.is_dir()  # it did spill, there
    finally:
        con.close()
    assert list(work.iterdir()) == []
    assert not spill.exists()  # DuckDB removes what it created
