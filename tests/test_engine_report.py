"""`rumq report` with an `engine` key: the sections run on Spark and write what DuckDB writes."""

from __future__ import annotations

from pathlib import Path

import clirun
import pytest
from rumdata import session_events, write_jsonl

from rumq.errors import ReportDefinitionError
from rumq.ingest import ingest
from rumq.report import run_report
from rumq.report.definition import load as load_definition

SECTIONS = """
[[section]]
id = "pages"
query = "pages/drop_off"
[[section]]
id = "funnel"
query = "funnels/conversion"
params = { steps = ["/", "/products/:id", "/cart"] }
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report-engine")
    evs = session_events("s-1", "u-1", ["/", "/products/1", "/cart"], start="2026-11-25T09:00:00")
    evs += session_events("s-2", "u-2", ["/", "/help"], start="2026-11-25T10:00:00")
    evs += session_events("s-3", "u-3", ["/products/2", "/cart"], start="2026-11-25T11:00:00")
    ingest(root / "data", [str(write_jsonl(root / "in.jsonl", evs))])
    return root / "data"


def test_report_on_spark_writes_duckdbs_csvs(spark, data, tmp_path):
    duck_def = tmp_path / "duck.toml"
    duck_def.write_text('window = "1d"\n' + SECTIONS, encoding="utf-8")
    spark_def = tmp_path / "spark.toml"
    spark_def.write_text('window = "1d"\nengine = "spark"\n' + SECTIONS, encoding="utf-8")
    assert load_definition(spark_def).engine == "spark" and load_definition(duck_def).engine == "duckdb"
    duck = run_report(duck_def, at="2026-11-25", out_dir=tmp_path / "d", data_dir=data)
    on_spark = run_report(spark_def, at="2026-11-25", out_dir=tmp_path / "s", data_dir=data)
    for sid in ("pages", "funnel"):
        assert (on_spark.folder / f"{sid}.csv").read_bytes() == (duck.folder / f"{sid}.csv").read_bytes()
    # By hand: / in S1 and S2; /products/:id after it in S1 only; then /cart in S1.
    assert (duck.folder / "funnel.csv").read_text().splitlines()[1:] and [
        line.split(",")[2] for line in (duck.folder / "funnel.csv").read_text().splitlines()[1:]] == ["2", "1", "1"]


def test_engine_key_is_checked_when_the_definition_loads(tmp_path):
    lib = tmp_path / "lib" / "t"
    lib.mkdir(parents=True)
    (lib / "ordered.sql").write_text(
        "-- ---\n-- name: t/ordered\n-- description: Ordered pages per session\n-- ---\n"
        "SELECT session_id, list(page ORDER BY seq) AS pages FROM session_pages GROUP BY session_id\n",
        encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(f'window = "1d"\nengine = "spark"\nqueries = ["{tmp_path / "lib"}"]\n'
                   '[[section]]\nid = "o"\nquery = "t/ordered"\n', encoding="utf-8")
    with pytest.raises(ReportDefinitionError, match=r"bad.toml:6: section 'o': list\(\)/array_agg") as e:
        load_definition(bad)
    assert e.value.exit_code == 2
    athena = tmp_path / "athena.toml"
    athena.write_text('window = "1d"\nengine = "athena"\n' + SECTIONS, encoding="utf-8")
    code, out, err = clirun.invoke(["report", str(athena)])
    assert code == 2 and out == "" and "athena.toml:2: unknown engine 'athena'" in err
