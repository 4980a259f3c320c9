"""bench/queries.py holds a hand-written DuckDB twin for every built-in query.

bench/queries.py and bench/cli_fixed_cost.py time each built-in against its
twin and check that both give the same rows; a built-in without one would not
be measured at all.
"""

from __future__ import annotations

import benchmods


def test_every_builtin_has_a_hand_written_twin():
    from rumq.library import Library

    bench = benchmods.load("queries")
    library = Library()
    builtins = {name for name in library.names() if library.get(name).builtin}
    assert len(builtins) >= 20
    assert set(bench.HAND) == builtins
