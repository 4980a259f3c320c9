"""Issue 13: counts are integers in every output. Every built-in query runs on the
hand-built fixture; each column its header documents as an integer type comes back as
an integer column, and prints without a decimal point in csv, json and table."""

from __future__ import annotations

import json

import analyses_data as fx
import pytest
from click.testing import CliRunner

from rumq.cli import cli
from rumq.library import Library

BUILTINS = Library(env={}).load().queries
INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UBIGINT", "UINTEGER"}
PARAMS = {"funnels/conversion": ["-p", "steps=/home,/cart"]}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("counts"))


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_documented_counts_are_integers_in_every_format(data, name):
    q = BUILTINS[name]
    ints = [c.name for c in q.columns if c.type.upper() in INTEGER_TYPES]
    args = ["--data", str(data), "run", name, *PARAMS.get(name, [])]
    res = CliRunner().invoke(cli, [*args, "-f", "json"], env={"RUMQ_QUERIES": ""})
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    for r in rows:
        for c in ints:
            assert r[c] is None or type(r[c]) is int, (name, c, r[c])
    if not rows or not ints:
        return
    res = CliRunner().invoke(cli, [*args, "-f", "csv"], env={"RUMQ_QUERIES": ""})
    header, *lines = res.stdout.splitlines()
    cols = header.split(",")
    for c in ints:
        # csv cells of an integer column never carry a decimal point ("34", not "34.0")
        i = cols.index(c)
        cells = [line.split(",")[i] for line in lines if line.count(",") == len(cols) - 1]
        assert all("." not in cell for cell in cells), (name, c, cells)


def test_the_integer_check_has_columns_to_check():
    # not vacuous: most built-ins document integer counts
    with_ints = [n for n, q in BUILTINS.items() if any(c.type.upper() in INTEGER_TYPES for c in q.columns)]
    assert "data/quality" in with_ints and len(with_ints) >= len(BUILTINS) - 2
