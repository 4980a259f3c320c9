"""Which engines each query runs on: known for every query, shown by `rumq queries`, named by `show`
(tests/test_portability_load.py: when it is computed and where it is kept)."""

from __future__ import annotations

import json

import analyses_data as A
import pytest
from _query_data import ORDERED_PAGES as USER_QUERY
from clirun import invoke

from rumq.engines.portability import REPORTED, cached
from rumq.library import Library


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("userq")
    (d / "mine").mkdir()
    (d / "mine" / "ordered_pages.sql").write_text(USER_QUERY, encoding="utf-8")
    return d


def test_every_builtin_has_its_engines_and_the_known_refusals():
    """The engines shown agree with the differential suites' lists of refused built-ins, construct and all.
    Trino renders every built-in (with its defaults; test_engine_trino.REFUSED names the parameter values
    it cannot render). The answers are the shipped manifest's, which test_portability_load proves fresh."""
    import test_engine_spark

    found = {q.name: cached(q) for q in Library(env={}).load().queries.values() if q.kind == "sql"}
    assert all(list(e) == list(REPORTED) and e["duckdb"] is None for e in found.values())
    for engine, refused in (("spark", test_engine_spark.REFUSED),):
        assert {n for n, e in found.items() if e[engine] is not None} == set(refused)
        assert all(refused[n] in found[n][engine] for n in refused)
    assert {n: e["trino"] for n, e in found.items() if e["trino"] is not None} == {}


def test_a_user_query_names_its_construct_and_still_runs_on_duckdb(tmp_path, user_dir):
    data = A.build(tmp_path)
    code, out, err = invoke(["queries", "--queries", str(user_dir), "--format", "json"])
    assert code == 0, err
    listed = {r["name"]: r for r in json.loads(out)}
    assert listed["mine/ordered_pages"]["engines"] == "duckdb"
    assert listed["pages/drop_off"]["engines"] == "duckdb,spark,trino" and listed["pages/drop_off"]["portability"] == ""
    why = ("not portable: spark: list()/array_agg (Spark's collect_list keeps no order) cannot be rendered "
           "exactly for Spark; trino: list()/array_agg cannot be rendered exactly for Athena/Trino")
    assert listed["mine/ordered_pages"]["portability"] == why
    assert f"notice: mine/ordered_pages is {why}\n" in err
    code, out, err = invoke(["queries", "--queries", str(user_dir)])
    assert code == 0 and "mine/ordered_pages" in out and f"notice: mine/ordered_pages is {why}" in err
    assert out.splitlines()[0].split() == ["name", "engines", "description", "params"]
    code, out, err = invoke(["queries", "show", "mine/ordered_pages", "--queries", str(user_dir)])
    assert code == 0 and "  duckdb: yes" in out
    assert "  spark: no, list()/array_agg (Spark's collect_list keeps no order)" in out
    assert "  trino: no, list()/array_agg" in out
    code, out, err = invoke(["--data", str(data), "run", "mine/ordered_pages", "--queries", str(user_dir),
                             "--format", "json"])
    assert code == 0, err
    rows = json.loads(out)
    # analyses_data's S2 in session order (tests/fixtures/queries/funnels/conversion.yaml).
    assert ["/home", "/cart", "/home", "/cart", "/checkout"] in [r["pages"] for r in rows]
