"""Every built-in query against its expected results in tests/fixtures/queries/<name>.yaml.

The data is the hand-built story of tests/analyses_data.py; every expected
value in the fixture files is computed by hand from that story, and the
comments in each file show the computation. A built-in query without a
fixture file fails ``test_builtin_query_matches_its_fixture``, so a new
built-in query must come with one.

A fixture file holds ``cases``, each with

* ``params``: the query's parameters (and ``since`` / ``until``), default none;
* ``rows``: the expected rows, in order, each a mapping of every output
  column (``same`` adds the columns equal in every row, e.g. ``coverage``);
* ``unchecked``: columns not compared (say why in a comment).

A string value starting with ``=`` is arithmetic (``=13/15``, ``=3000 +
0.25*2000``): the hand computation written out, evaluated with numbers and
``+ - * /`` only. Floats compare with a relative tolerance of 1e-9.
"""

from __future__ import annotations

import ast
import operator
from pathlib import Path
from typing import Any

import analyses_data as fx
import pytest
import yaml
from pytest import approx

from rumq.library import Library

FIXTURES = Path(__file__).parent / "fixtures" / "queries"
BUILTINS = sorted(q.name for q in Library(env={}).load().queries.values() if q.builtin)
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.USub: operator.neg}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("q-fixtures"))


def arithmetic(text: str) -> float:
    """Evaluate ``text`` (numbers, + - * / and parentheses only)."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        raise ValueError(f"not plain arithmetic: {text!r}")

    return ev(ast.parse(text, mode="eval").body)


def expected(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("="):
        value = arithmetic(value[1:])
    if isinstance(value, float):
        return approx(value, rel=1e-9, abs=1e-12)
    return value


def load(name: str) -> dict[str, Any]:
    path = FIXTURES / f"{name}.yaml"
    assert path.is_file(), (
        f"built-in query {name} has no fixture: add tests/fixtures/queries/{name}.yaml with its expected "
        "results on the tests/analyses_data.py story, computed by hand")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict) and doc.get("cases"), f"{path}: no cases"
    return doc


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_query_matches_its_fixture(name, data):
    query = Library(env={}).get(name)
    columns = [c.name for c in query.columns]
    for n, case in enumerate(load(name)["cases"], 1):
        params = case.get("params") or {}
        unchecked = set(case.get("unchecked") or ())
        got = fx.run(data, name, **params)
        assert all(list(r) == columns for r in got), f"{name} case {n}: columns differ from the query's"
        want = [{**(case.get("same") or {}), **row} for row in case["rows"]]
        for row in want:
            assert set(row) == set(columns) - unchecked, f"{name} case {n}: a row must list every column"
        got = [{k: v for k, v in r.items() if k not in unchecked} for r in got]
        assert got == [{k: expected(v) for k, v in row.items()} for row in want], f"{name} case {n} {params}"


def test_every_fixture_is_a_builtin_query():
    names = sorted(str(p.relative_to(FIXTURES).with_suffix("")) for p in FIXTURES.rglob("*.yaml"))
    assert names and set(names) <= set(BUILTINS), set(names) - set(BUILTINS)


def test_arithmetic_is_plain_arithmetic():
    assert arithmetic("3000 + 0.25*2000") == 3500
    assert arithmetic("(2 + 1/2) / 4") == 0.625
    with pytest.raises(ValueError):
        arithmetic("__import__('os')")
