"""The Polars twins of the core built-ins agree with their SQL originals (issue 18, part 3).

Each twin (``rumq.engines.polars_twins``) runs over the same data as its SQL
original, with each query's parameter matrix, and must give the same
columns, types and rows in the same order (floats to 1e-9). Two datasets:
tests/polars_data.py's edge cases and tests/test_consistency.py's generated
day, whole and cut by a window.
"""

from __future__ import annotations

import polars_data as D
import pytest

from rumq.api import Dataset
from rumq.engines.polars_twins import TWINS, glob_regex, run_twin
from rumq.errors import ParameterError, UsageError
from rumq.library import Library

ALL = 100_000
FUNNEL = ["/", "/product/*", "/cart"]

# (query, parameters): every value of every choice, the cuts, and both cookie settings.
MATRIX: list[tuple[str, dict]] = [
    ("sessions/summary", {}),
    ("sessions/summary", {"include_cookieless": True}),
    ("pages/drop_off", {"top": ALL}),
    ("pages/drop_off", {"top": ALL, "include_cookieless": True}),
    ("pages/drop_off", {"top": 3}),
    ("journeys/transitions", {"top": ALL}),
    ("journeys/transitions", {"top": ALL, "include_cookieless": True}),
    ("journeys/transitions", {"top": ALL, "steps": 1}),
    ("journeys/transitions", {"top": ALL, "steps": 2, "include_cookieless": True}),
    ("journeys/transitions", {"top": ALL, "steps": 5, "min_count": 2}),
    ("journeys/transitions", {"top": 4}),
    *[("errors/rate_per_session", {"dimension": d, "bucket": b, "include_cookieless": c})
      for d in ("none", "browser", "os", "device", "country", "page", "app_version")
      for b in ("none", "hour", "day") for c in (False, True)],
    *[("performance/web_vitals", {"sort": s, "top": ALL}) for s in ("samples", "p50", "p75", "p90", "poor", "page")],
    ("performance/web_vitals", {"by": "none", "top": ALL}),
    ("performance/web_vitals", {"by": "none", "metric": "LCP", "sort": "poor"}),
    *[("performance/web_vitals", {"metric": m, "min_samples": 2, "top": 5}) for m in ("CLS", "INP", "FID", "TTFB", "FCP")],
    ("funnels/conversion", {"steps": FUNNEL}),
    ("funnels/conversion", {"steps": FUNNEL, "include_cookieless": True}),
    ("funnels/conversion", {"steps": FUNNEL, "mode": "strict"}),
    ("funnels/conversion", {"steps": [*FUNNEL, "/checkout*"], "window": "10m"}),
    ("funnels/conversion", {"steps": ["/home", "/cart", "/checkout"], "include_cookieless": True}),
    ("funnels/conversion", {"steps": ["/*", "/*", "/*"], "mode": "strict"}),
    ("funnels/conversion", {"steps": ["/*", "/*", "/*", "/*"], "window": "1m"}),
    ("funnels/conversion", {"steps": ["/[hc]*", "/?art"]}),
    ("funnels/conversion", {"steps": ["/no-such-page", "/*"]}),
]


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    return D.build_edges(tmp_path_factory.mktemp("twins-edges"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return D.build_generated(tmp_path_factory.mktemp("twins-generated"))


def _agree(data, name, params, **window):
    duck = Dataset(data, notify=lambda _: None).run(name, **window, **params)
    mine = run_twin(data, name, params, **window)
    D.assert_frames_agree(duck, mine, ordered=True)
    return duck


def test_every_twin_is_in_the_matrix():
    assert {n for n, _ in MATRIX} == set(TWINS)
    assert len(TWINS) == 6


@pytest.mark.parametrize("name, params", MATRIX, ids=[f"{n}-{i}" for i, (n, _) in enumerate(MATRIX)])
def test_twin_agrees_on_the_edge_cases(edges, name, params):
    _agree(edges, name, params)


@pytest.mark.parametrize("name, params", MATRIX, ids=[f"{n}-{i}" for i, (n, _) in enumerate(MATRIX)])
def test_twin_agrees_on_generated_data(generated, name, params):
    duck = _agree(generated, name, params)
    if name != "funnels/conversion" or params["steps"][0] != "/no-such-page":
        assert duck.height > 0


@pytest.mark.parametrize("name, params", [m for m in MATRIX if "include_cookieless" in m[1]][::3])
def test_twin_agrees_over_a_window_that_cuts_sessions(generated, name, params):
    _agree(generated, name, params, since="2024-03-04T12:00:00", until="2024-03-04T20:00:00")


def test_the_funnels_reach_their_later_steps(generated):
    """Not vacuous: the generated day has sessions at every step of the default funnel."""
    rows = _agree(generated, "funnels/conversion", {"steps": FUNNEL}).rows(named=True)
    assert [r["step"] for r in rows] == [1, 2, 3] and all(r["sessions"] > 0 for r in rows)
    assert rows[2]["median_time_from_previous_s"] is not None


def test_a_first_and_last_page_view_without_page_id_is_the_entry_and_exit_everywhere(edges):
    """Session E4: no page id, /home, no page id, /home, no page id (tests/polars_data.py).

    The definitions say the entry (exit) page is the page of the first (last) page view, and a
    page view without a page id is a NULL page. Before the twins, `sessions` (and pages/entry)
    took the first page view *with* a page id and the journey path dropped the leading NULL
    page, so pages/entry and the (entry) edges said /home while pages/drop_off said NULL.
    Both engines now give NULL everywhere.
    """
    for engine in ("duckdb", "polars"):
        if engine == "duckdb":
            ds = Dataset(edges, notify=lambda _: None)
            run = ds.run
            e4 = ds.sql(f"SELECT entry_page, exit_page FROM sessions WHERE session_id = '{D.E4}'").row(0)
        else:
            def run(name, **p):
                return run_twin(edges, name, p)
            e4 = Dataset(edges).view("sessions").filter(session_id=D.E4).select("entry_page", "exit_page").collect().row(0)
        assert e4 == (None, None), engine
        drop = {r["page"]: r for r in run("pages/drop_off", top=ALL).rows(named=True)}
        assert (drop[None]["entries"], drop[None]["exits"]) == (1, 1), engine
        edges_ = {(r["from_page"], r["to_page"]): r["sessions"] for r in run("journeys/transitions", top=ALL).rows(named=True)}
        assert edges_[("(entry)", None)] == 1 and edges_[(None, "(exit)")] == 1, engine
        # /home is entered by S1, S2, S3 (cookie sessions), not by E4.
        assert drop["/home"]["entries"] == edges_[("(entry)", "/home")] == 3, engine
    entry = {r["entry_page"]: r["sessions"] for r in Dataset(edges, notify=lambda _: None).run("pages/entry").rows(named=True)}
    assert entry[None] == 1 and entry["/home"] == 3


def test_globs_become_anchored_regexes():
    assert glob_regex("/product/*") == "^/product/(?s:.*)$"
    assert glob_regex("/?art") == "^/(?s:.)art$"
    assert glob_regex("/[!a-c]x") == "^/[^a-c]x$"
    assert glob_regex("/a.b+[") == r"^/a\.b\+\[$"


def test_cli_engine_polars_prints_what_duckdb_prints(edges):
    import clirun

    def cli(*extra: str) -> tuple[int, str, str]:
        return clirun.invoke(["--data", str(edges), "run", "pages/drop_off", "-p", "top=5", "--format", "csv",
                              "--until", "2026-11-02T15:00:00", *extra])

    duck, polars = cli(), cli("--engine", "polars")
    assert duck[0] == polars[0] == 0
    assert polars[1] == duck[1] and polars[1].count("\n") == 6
    # The story's 13 cookie page views of 15: the same coverage warning.
    assert polars[2] == duck[2] and "warning: pages/drop_off: only 87% of the page views" in polars[2]


def test_cli_engine_polars_refuses_a_query_without_a_twin(edges):
    import clirun

    code, out, err = clirun.invoke(["--data", str(edges), "run", "pages/entry", "--engine", "polars"])
    assert (code, out) == (2, "")
    assert "--engine polars: query 'pages/entry' has no Polars twin (none is written)" in err
    assert "sessions/summary, pages/drop_off" in err
    for cmd in (["sql", "SELECT 1"], ["insights", "stats count(*)"]):
        code, _, err = clirun.invoke(["--data", str(edges), *cmd, "--engine", "polars"])
        assert code == 2 and "--engine polars runs named queries" in err


def test_a_user_query_hiding_a_builtin_has_no_twin(edges, tmp_path):
    lib = tmp_path / "lib"
    (lib / "pages").mkdir(parents=True)
    (lib / "pages" / "drop_off.sql").write_text(
        "-- ---\n-- name: pages/drop_off\n-- description: mine\n-- ---\nSELECT 1 AS x\n", encoding="utf-8")
    with pytest.raises(UsageError, match="has no Polars twin \\(it is not a built-in\\)"):
        run_twin(edges, "pages/drop_off", {}, library=Library([lib], env={}))


@pytest.mark.parametrize("name, params", [("pages/drop_off", {"by_domain": "true"}),
                                          ("journeys/transitions", {"by_domain": True}),
                                          ("performance/web_vitals", {"by": "group"})])
def test_a_parameter_value_no_twin_computes_is_refused_by_name(edges, name, params):
    (key, value), = params.items()
    with pytest.raises(UsageError, match=f"query '{name}' with {key}={str(value).lower()} has no Polars twin"):
        run_twin(edges, name, params)


def test_twin_parameters_are_validated_as_for_sql(edges):
    with pytest.raises(ParameterError, match="parameter 'dimension': invalid value 'planet'"):
        run_twin(edges, "errors/rate_per_session", {"dimension": "planet"})
    with pytest.raises(ParameterError, match="missing parameter 'steps'"):
        run_twin(edges, "funnels/conversion", {})
