"""The function table (``rumq.insights.functions``): arity checks, documentation, unsupported names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rumq import insights
from rumq.errors import QuerySyntaxError, QueryUnsupportedError
from rumq.insights.functions import AGGREGATES, FUNCTIONS, UNSUPPORTED_FUNCTIONS

DOC = (Path(__file__).parent.parent / "docs" / "insights.md").read_text(encoding="utf-8").lower()


def test_every_function_and_aggregate_is_documented():
    missing = [n for n in sorted(set(FUNCTIONS) | AGGREGATES) if not re.search(rf"\b{re.escape(n)}\b", DOC)]
    assert not missing, f"not in docs/insights.md: {missing}"


def test_table_entries_are_well_formed():
    for name, (lo, hi, impl) in FUNCTIONS.items():
        assert name == name.lower(), name  # calls are looked up by their lower-case name
        assert 0 <= lo <= hi, name
        assert callable(impl), name
    assert not (set(FUNCTIONS) & AGGREGATES) and not (set(FUNCTIONS) & set(UNSUPPORTED_FUNCTIONS))


def _call(name: str, n: int) -> str:
    return f"fields {name}({', '.join(['1'] * n)}) as x"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_arity_from_the_table_is_enforced(name):
    lo, hi, _ = FUNCTIONS[name]
    if lo > 0:
        with pytest.raises(QuerySyntaxError, match=rf"{name}\(\) takes .* argument\(s\), got {lo - 1}"):
            insights.compile(_call(name, lo - 1))
    if hi < 99:
        with pytest.raises(QuerySyntaxError, match=rf"{name}\(\) takes .* argument\(s\), got {hi + 1}"):
            insights.compile(_call(name, hi + 1))


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_FUNCTIONS))
def test_unsupported_functions_are_named(name):
    with pytest.raises(QueryUnsupportedError, match=rf"'{name}' is not supported"):
        insights.compile(f"stats {name}(event_details.duration)")
