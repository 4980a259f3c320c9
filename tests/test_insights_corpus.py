"""A corpus of real, published Logs Insights queries runs against a small RUM dataset.

tests/fixtures/insights_corpus/published.txt holds each query with its source (AWS
documentation pages, AWS sample repositories, public saved queries). Most were written for
other kinds of logs: over RUM events they run and find what they find (usually nothing).
The test requires zero crashes: every query either runs, or is rejected as unsupported with a
message naming the construct, or is rejected as malformed with a line and column. The counts
are written in README.md and docs/insights.md; a test keeps them true.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from test_insights_golden import build

from rumq import catalog, insights
from rumq.errors import QuerySyntaxError, QueryUnsupportedError

ROOT = Path(__file__).parent.parent
CORPUS = Path(__file__).parent / "fixtures" / "insights_corpus" / "published.txt"
# A window around the fixture's events, so that `diff` (which needs one) can run too.
SINCE, UNTIL = datetime(2026, 11, 25), datetime(2026, 11, 26)


@dataclass(frozen=True)
class Entry:
    id: str
    source: str
    query: str


def load() -> list[Entry]:
    """Read the corpus file: '=== id', a 'source:' line, then the query text."""
    entries: list[Entry] = []
    cur: list[str] | None = None
    for line in CORPUS.read_text(encoding="utf-8").split("\n") + ["=== "]:
        if line.startswith("=== "):
            if cur is not None:
                ident, src, *body = cur
                assert src.startswith("source: ") and len(src) > len("source: "), f"{ident}: no source line"
                entries.append(Entry(ident, src[len("source: "):], "\n".join(body).strip("\n")))
            cur = [line[4:].strip()]
        elif cur is not None:
            cur.append(line)
    return entries


ENTRIES = load()


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = catalog.connect(build(tmp_path_factory.mktemp("corpus")))
    yield c
    c.close()


def outcome(con, e: Entry) -> str:
    """'run', 'unsupported' or 'malformed'; anything else raised fails the test (a crash)."""
    try:
        insights.execute(con, insights.compile(e.query, since=SINCE, until=UNTIL))
    except QueryUnsupportedError as err:
        # Rejected by name: the message quotes the construct and says it is not supported.
        assert "not supported" in str(err) and re.search(r"'[^']+'|subqueries|SOURCE", str(err)), str(err)
        return "unsupported"
    except QuerySyntaxError as err:
        assert err.line and err.column and err.excerpt, str(err)
        return "malformed"
    return "run"


def test_corpus_is_well_formed():
    assert len(ENTRIES) >= 60
    ids = [e.id for e in ENTRIES]
    assert len(ids) == len(set(ids)), "two corpus entries share an id"
    assert all(e.query for e in ENTRIES)


def counts(con) -> dict[str, int]:
    out = {"run": 0, "unsupported": 0, "malformed": 0}
    for e in ENTRIES:
        out[outcome(con, e)] += 1
    return out


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_every_query_runs_or_is_rejected_by_name(con, entry):
    assert outcome(con, entry) in ("run", "unsupported", "malformed")


def test_counts_in_the_docs_are_true(con):
    got = counts(con)
    line = (f"{len(ENTRIES)} published queries: {got['run']} run, {got['unsupported']} rejected as "
            f"unsupported by name, {got['malformed']} rejected as malformed")
    for doc in ("README.md", "docs/insights.md"):
        text = re.sub(r"\s+", " ", (ROOT / doc).read_text(encoding="utf-8"))
        assert line in text, f"{doc} must say: {line}"
