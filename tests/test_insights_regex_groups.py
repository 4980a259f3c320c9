"""A regex ``parse`` gives each named group the value Python's ``re`` gives it, on any text.

Differential, with hypothesis: regexes from a small grammar that RE2 (DuckDB, which runs the
query) and Python read alike (literals, escapes, classes with a literal ']' first, a '(' inside
and POSIX classes, named, unnamed and non-capturing groups, quantifiers, alternatives; a group
is optional or not, never repeated, as the two engines differ on which repetition a group
reports) and texts over an alphabet that meets them. Expected: ``re.search``'s group, None where the group
takes no part or nothing matches (Logs Insights leaves the field null). A group rumq refuses
(optional and able to match the empty string: rumq.insights.regex) is refused with
QueryUnsupportedError, never answered, and no regex ends in any other error.
"""

from __future__ import annotations

import re

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rumq import insights
from rumq.errors import QueryUnsupportedError
from rumq.schema import COLUMNS, PARTITION_COLUMN

#: (RE2 text, the same for Python): POSIX classes spelled out for Python, which has none.
ATOMS = [("a", "a"), ("b", "b"), ("1", "1"), (" ", " "), (r"\d", r"\d"), (r"\.", r"\."), (r"\(", r"\("),
         (r"\)", r"\)"), ("[ab]", "[ab]"), ("[^a]", "[^a]"), ("[(]", "[(]"), ("[]a]", "[]a]"),
         ("[[:alpha:](]", "[a-zA-Z(]"), ("[[:digit:]]", "[0-9]"), (".", ".")]
QUANTIFIERS = ["", "", "", "?", "*", "+", "{1,2}"]
TEXT = "ab1 .()x"


@st.composite
def regexes(draw, depth: int = 0) -> tuple[str, str, list[str]]:
    """(RE2 regex, Python regex, group names), the names numbered by a shared counter."""
    names: list[str] = []

    def seq(d: int) -> tuple[str, str]:
        parts = []
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["atom", "atom", "group"] if d < 2 else ["atom"]))
            if kind == "atom":
                r, p = draw(st.sampled_from(ATOMS))
            else:
                inner_r, inner_p = seq(d + 1)
                if draw(st.booleans()):  # an alternative
                    alt_r, alt_p = seq(d + 1)
                    inner_r, inner_p = f"{inner_r}|{alt_r}", f"{inner_p}|{alt_p}"
                how = draw(st.sampled_from(["named", "named", "plain", "noncap"]))
                if how == "named":
                    name = f"g{len(names) + 1}"
                    names.append(name)
                    r, p = f"(?<{name}>{inner_r})", f"(?P<{name}>{inner_p})"
                elif how == "plain":
                    r, p = f"({inner_r})", f"({inner_p})"
                else:
                    r, p = f"(?:{inner_r})", f"(?:{inner_p})"
            # A repeated group is left out: where its last repetition can match the empty string,
            # Python and RE2 report different repetitions ('(a|1?)+' on "1": '' against '1').
            q = draw(st.sampled_from(QUANTIFIERS if kind == "atom" else ["", "", "?"]))
            parts.append((r + q, p + q))
        return "".join(r for r, _ in parts), "".join(p for _, p in parts)

    r, p = seq(depth)
    if not names:  # parse needs a named group
        names.append("g1")
        r, p = f"(?<g1>{r})", f"(?P<g1>{p})"
    return r, p, names


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    cols = ", ".join(f"CAST(NULL AS {col.type}) AS {col.name}" for col in COLUMNS
                     if col.name not in ("message", "event_id"))
    c.execute(f"CREATE TABLE events AS SELECT {cols}, '' AS message, '' AS event_id, "
              f"DATE '2026-01-01' AS {PARTITION_COLUMN} LIMIT 0")
    yield c
    c.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rx=regexes(), texts=st.lists(st.text(alphabet=TEXT, max_size=10), min_size=1, max_size=6))
def test_named_groups_match_pythons(con, rx, texts):
    re2, python, names = rx
    query = f"parse @message /{re2}/ | fields event_id, {', '.join(names)} | sort event_id asc"
    try:
        insights.compile(query)
    except QueryUnsupportedError as e:
        assert "may take no part in the match and can also match an empty string" in str(e)
        return
    con.execute("DELETE FROM events")
    con.executemany("INSERT INTO events (message, event_id) VALUES (?, ?)",
                    [(t, f"{i:02d}") for i, t in enumerate(texts)])
    got = [tuple(r) for r in insights.run(con, query).iter_rows()]
    pattern = re.compile(python)
    want = []
    for i, t in enumerate(texts):
        m = pattern.search(t)
        want.append((f"{i:02d}", *(m.group(n) if m else None for n in names)))
    assert got == want, (re2, texts)


#: Pieces of regex syntax, valid and not, for texts no grammar would write.
PIECES = ["(", ")", "(?<a>", "(?<b>", "(?P<c>", "(?:", "(?i)", "(?i:", "[", "]", "[^", "[:alpha:]", "\\", "\\d",
          "\\(", "|", "*", "+", "?", "{1,2}", "{", "}", "a", "1", ".", "^", "$", " ", "-", "(?<@d>"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=9))
def test_any_regex_is_answered_or_refused_by_name(con, pieces):
    # '(?<c>?)' once passed as '(?)', an empty flag group, and lost its only group: KeyError.
    from rumq.errors import QueryExecutionError, RumqError

    con.execute("DELETE FROM events")
    # Messages are JSON, as every stored one is: a field the regex does not define is read from it.
    con.executemany("INSERT INTO events (message, event_id) VALUES (?, ?)",
                    [('{"a": "ab1 (x)", "b": 2}', "1"), ("{}", "2")])
    try:
        insights.run(con, f"parse @message /{''.join(pieces)}/ | fields a, b, c").iter_rows()
    except QueryExecutionError as e:  # DuckDB failed on compiled SQL: rumq's fault, never the user's
        raise AssertionError(f"{''.join(pieces)!r}: {e}") from None
    except RumqError:
        pass


def test_a_named_group_that_starts_with_a_quantifier_is_a_syntax_error():
    from rumq.errors import QuerySyntaxError

    with pytest.raises(QuerySyntaxError, match="no argument for repetition operator"):
        insights.compile("parse @message /|(?<c>?)/ | fields c")
