"""Golden tests: Logs Insights query -> exact rows over a small hand-built dataset.

The dataset is 12 RUM messages (``messages()``) ingested with the real
``rumq.ingest.ingest`` and read through ``rumq.catalog.connect``. The cases live
in ``tests/fixtures/insights/<feature>.txt``, one file per feature; every
expected row there was computed by hand from the table in ``messages()``.

Fixture format (lines before the first case that start with ``#`` are comments)::

    === <title of the case>
    <the query, one or more lines, taken verbatim>
    --- note                      (optional: how the expected values were worked out)
    <free text>
    --- columns
    ["col1", "col2"]              (a JSON array: the result column names)
    --- rows
    ["a", 1]                      (one JSON array per expected row, in order; none for no rows)

A cell is a JSON value, or ``{"message": "e12"}`` (the compact JSON of that
message of ``messages()``, as @message shows it) or ``{"ms": "2026-11-25T10:00:01"}``
(that UTC time in epoch milliseconds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from rumdata import event, ts

from rumq import insights

S1 = "11111111-1111-4111-8111-111111111111"
S2 = "22222222-2222-4222-8222-222222222222"
U1 = "aaaaaaaa-1111-4111-8111-111111111111"
U2 = "bbbbbbbb-2222-4222-8222-222222222222"


def messages() -> list[dict]:
    """The fixture: two cookie sessions (S1 Chrome, S2 Firefox) and a cookieless Safari visitor.

    | id  | type        | time (2026-11-25) | session | page   | details                       |
    | e01 | page_view   | 10:00:00          | S1      | /      |                               |
    | e02 | navigation  | 10:00:01          | S1      | /      | duration 1200                 |
    | e03 | page_view   | 10:05:00          | S1      | /cart  |                               |
    | e04 | navigation  | 10:05:01          | S1      | /cart  | duration 800                  |
    | e05 | js_error    | 10:06:00          | S1      | /cart  | TypeError "x is undefined"    |
    | e06 | http        | 10:07:00          | S1      | /cart  | GET .../cart -> 503           |
    | e07 | page_view   | 11:30:00          | S2      | /      |                               |
    | e08 | navigation  | 11:30:02          | S2      | /      | duration 2500                 |
    | e09 | http        | 11:31:00          | S2      | /      | GET .../items -> 200          |
    | e10 | lcp         | 11:31:30          | S2      | /      | value 2100                    |
    | e11 | custom      | 12:00:00          | nil     | /      | duration 42, items[2], label  |
    | e12 | page_view   | 12:00:05          | nil     | /about |                               |
    """
    d = "2026-11-25T"

    def s1(kind, at, eid, page="/", **kw):
        return event(kind, at=d + at, session=S1, user=U1, page=page, event_id=eid, browser="Chrome", **kw)

    def s2(kind, at, eid, page="/", **kw):
        return event(kind, at=d + at, session=S2, user=U2, page=page, event_id=eid, browser="Firefox", **kw)

    nav = lambda ms: {"version": "1.0.0", "initiatorType": "navigation", "navigationType": "navigate", "duration": ms}  # noqa: E731
    return [
        s1("page_view", "10:00:00", "e01"),
        s1("navigation", "10:00:01", "e02", details=nav(1200)),
        s1("page_view", "10:05:00", "e03", page="/cart", interaction=1),
        s1("navigation", "10:05:01", "e04", page="/cart", details=nav(800)),
        s1("js_error", "10:06:00", "e05", page="/cart", details={
            "version": "1.0.0", "type": "TypeError", "message": "x is undefined",
            "filename": "app.js", "lineno": 10, "colno": 5}),
        s1("http", "10:07:00", "e06", page="/cart", details={
            "version": "1.0.0", "request": {"method": "GET", "url": "https://api.example.com/cart"},
            "response": {"status": 503, "statusText": "Service Unavailable"}}),
        s2("page_view", "11:30:00", "e07"),
        s2("navigation", "11:30:02", "e08", details=nav(2500)),
        s2("http", "11:31:00", "e09", details={
            "version": "1.0.0", "request": {"method": "GET", "url": "https://api.example.com/items"},
            "response": {"status": 200, "statusText": "OK"}}),
        s2("largest_contentful_paint", "11:31:30", "e10", details={"version": "1.0.0", "value": 2100}),
        event("my_custom_event", at=d + "12:00:00", event_id="e11", browser="Safari",
              extra_metadata={"plan": "pro"},
              details={"duration": 42, "items": [{"sku": "A-1"}, {"sku": "B-2"}], "label": "Promo 10%"}),
        event("page_view", at=d + "12:00:05", event_id="e12", page="/about", browser="Safari"),
    ]


def build(tmp: Path) -> Path:
    from rumq.ingest import ingest

    src = tmp / "export.jsonl"
    src.write_text("".join(json.dumps(m, separators=(",", ":")) + "\n" for m in messages()))
    data = tmp / "data"
    report = ingest(data, [str(src)])
    assert report.rejected == 0 and report.written == 12
    return data


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    from rumq import catalog

    data = build(tmp_path_factory.mktemp("insights"))
    c = catalog.connect(data)
    yield c
    c.close()


def rows(con, query: str) -> tuple[list[str], list[tuple]]:
    df = insights.run(con, query)
    return df.columns, [tuple(r) for r in df.iter_rows()]


FIXTURES = Path(__file__).parent / "fixtures" / "insights"


@dataclass(frozen=True)
class Case:
    """One golden case read from a fixture file."""

    file: str
    line: int
    title: str
    query: str
    columns: list[str]
    rows: list[tuple]
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.file}: {self.title}"


def _value(cell, where: str):
    """A cell of an expected row; two JSON objects stand for values derived from ``messages()``."""
    if not isinstance(cell, dict):
        return cell
    if set(cell) == {"message"}:
        [m] = [m for m in messages() if m["event_id"] == cell["message"]]
        return json.dumps(m, separators=(",", ":"))
    if set(cell) == {"ms"}:
        return ts(cell["ms"])
    raise ValueError(f"{where}: unknown cell {cell!r}; use a JSON value, {{\"message\": id}} or {{\"ms\": time}}")


def parse_fixture(path: Path) -> list[Case]:
    """Read one fixture file (format: see the module docstring).

    Raises:
        ValueError: the file does not follow the format (names the file and line).
    """
    cases: list[Case] = []
    cur: dict | None = None
    section = ""

    def close() -> None:
        if cur is None:
            return
        where = f"{path.name}:{cur['line']}"
        query = "\n".join(cur["query"]).strip("\n")
        if not query or cur["columns"] is None or section != "rows":
            raise ValueError(f"{where}: a case needs a query, '--- columns' and '--- rows'")
        rows = [tuple(_value(v, where) for v in r) for r in cur["rows"]]
        cases.append(Case(path.name, cur["line"], cur["title"], query, cur["columns"], rows, " ".join(cur["note"])))

    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if line.startswith("=== "):
            close()
            cur = {"line": n, "title": line[4:].strip(), "query": [], "note": [], "columns": None, "rows": []}
            section = "query"
        elif cur is None:
            if line and not line.startswith("#"):
                raise ValueError(f"{path.name}:{n}: text before the first '=== title' line")
        elif line.startswith("--- "):
            section = line[4:].strip()
            if section not in ("note", "columns", "rows"):
                raise ValueError(f"{path.name}:{n}: unknown section {section!r} (note, columns, rows)")
        elif section == "query":
            cur["query"].append(line)
        elif section == "note":
            cur["note"].append(line.strip())
        elif line.strip():
            try:
                value = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path.name}:{n}: not a JSON array: {e}") from None
            if not isinstance(value, list):
                raise ValueError(f"{path.name}:{n}: expected a JSON array")
            if section == "columns":
                cur["columns"] = value
            else:
                cur["rows"].append(value)
    close()
    return cases


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.iterdir())


CASES = [c for f in fixture_files() if f.suffix == ".txt" for c in parse_fixture(f)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden(con, case: Case):
    cols, got = rows(con, case.query)
    assert cols == case.columns
    assert got == case.rows


def test_every_fixture_file_is_used_and_holds_cases():
    files = fixture_files()
    assert files, f"no fixture files in {FIXTURES}"
    for f in files:
        assert f.suffix == ".txt", f"{f.name}: not a fixture file (*.txt); the golden test would not read it"
        cases = parse_fixture(f)
        assert cases, f"{f.name}: holds no case"
        for c in cases:
            assert c.title and c.query and c.columns, f"{c.id}: empty title, query or columns"
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "two cases share a title in one file"
    assert {c.file for c in CASES} == {f.name for f in files}


def test_fixture_format_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("=== t\nfields a\n--- columns\n[\"a\"]\n--- rows\n{\"a\": 1}\n")
    with pytest.raises(ValueError, match=r"bad.txt:6: expected a JSON array"):
        parse_fixture(bad)
    bad.write_text("=== t\nfields a\n--- rows\n[1]\n")
    with pytest.raises(ValueError, match=r"bad.txt:1: a case needs"):
        parse_fixture(bad)
    bad.write_text("=== t\nfields a\n--- columns\n[\"a\"]\n--- rows\n[{\"x\": 1}]\n")
    with pytest.raises(ValueError, match=r"bad.txt:1: unknown cell"):
        parse_fixture(bad)


def test_time_range_arguments(con):
    from datetime import datetime

    df = insights.run(con, "stats count(*) as n", since=datetime(2026, 11, 25, 11), until=datetime(2026, 11, 25, 12))
    assert df["n"].to_list() == [4]
    df = insights.run(con, "fields queryStartTime() as s, queryTimeRange() as r | limit 1",
                      since=datetime(2026, 11, 25, 11), until=datetime(2026, 11, 25, 12))
    assert df.row(0) == (ts("2026-11-25T11:00:00"), 3_600_000)


def test_named_query_params_are_literals(con):
    # A value that tries to break out of its string stays one literal.
    q = "filter event_id = {{eid}} | fields event_id"
    assert insights.run(con, q, params={"eid": "e05"})["event_id"].to_list() == ["e05"]
    assert insights.run(con, q, params={"eid": 'e05" or event_id like "e'}).height == 0
    assert insights.substitute_params("filter x in {{xs}}", {"xs": ["a\\", 'b"', 3]}) == 'filter x in ["a\\\\", "b\\"", 3]'
