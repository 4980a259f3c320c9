"""The same events through JSON lines and through Firehose-converted Parquet give the same answers.

* Every built-in query (walked from ``rumq.library``), on events written by
  ``rumq generate`` with one seed as gzip JSON lines and as
  ``firehose-parquet`` under each documented Glue schema: identical results.
* The Logs Insights golden corpus (``tests/fixtures/insights/*.txt``) on its
  12 messages written as JSON lines and as Parquet of each Glue schema:
  identical results, except the cases listed in ``MESSAGE_TEXT_CASES``, which
  show the whole ``@message`` text (a reconstruction is canonical JSON, not
  the original bytes). A test checks that those cases really differ, so the
  list stays exact. Queries that parse, match or jsonParse ``@message`` agree.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import test_insights_golden as golden

from rumq import catalog, insights
from rumq.api import Dataset
from rumq.generate import generate
from rumq.generate.glue import GLUE_SCHEMAS, glue_schema, messages_table
from rumq.ingest import ingest
from rumq.library import Library

SEED = 13
# A value for each required parameter of a built-in query (as in test_consistency).
REQUIRED = {("funnels/conversion", "steps"): ["/", "/product/*", "/cart"]}
BUILTINS = sorted((q for q in Library(env={}).load().queries.values() if q.builtin), key=lambda q: q.name)

#: Golden cases whose result is the whole @message text, and the routes where
#: it differs: JSON lines keep the original bytes, a reconstruction is
#: canonical JSON. From JSON strings it happens to equal these compact
#: messages byte for byte (same key order within the documents, same numbers);
#: from structs the document keys come in the Glue schema's field order.
MESSAGE_TEXT_CASES = {
    "commands.txt: no fields: @timestamp and @message": {"structs"},
    "functions-json.txt: jsonParse output is the compact JSON text of the value": {"structs"},
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Dataset per route: ``jsonl`` and one per Glue schema, from the same generated events."""
    base = tmp_path_factory.mktemp("equiv")
    out = {}
    for route in ("jsonl", *GLUE_SCHEMAS):
        src = base / f"src-{route}"
        if route == "jsonl":
            truth = generate(src, sessions=60, days=1, seed=SEED, apps=2, cookieless_share=0.25, gzip=True)
        else:
            truth = generate(src, sessions=60, days=1, seed=SEED, apps=2, cookieless_share=0.25,
                             fmt="firehose-parquet", glue_schema=route)
        r = ingest(base / route, [str(src)])
        assert r.rejected == 0 and r.written == truth.total["events"]
        out[route] = base / route
    return out


def _param_sets(q) -> list[dict]:
    """The defaults, then each choice of every choice parameter (one at a time)."""
    base = {p.name: REQUIRED[(q.name, p.name)] for p in q.params if p.required}
    out = [base]
    for p in q.params:
        if p.choices and p.type != "list":
            out += [{**base, p.name: c} for c in p.choices if c != p.default]
    return out


@pytest.mark.parametrize("query", BUILTINS, ids=lambda q: q.name)
def test_every_builtin_query_agrees(generated, query):
    runs = 0
    for params in _param_sets(query):
        want = Dataset(generated["jsonl"], notify=lambda _: None).run(query.name, **params).to_dicts()
        for glue in GLUE_SCHEMAS:
            got = Dataset(generated[glue], notify=lambda _: None).run(query.name, **params).to_dicts()
            assert got == want, f"{query.name} {params} via {glue}"
            runs += 1
    assert runs >= 2


def test_the_generated_data_exercises_the_analyses(generated):
    """No agreement above holds vacuously: each built-in query has rows on this data."""
    empty = [q.name for q in BUILTINS
             if not Dataset(generated["jsonl"], notify=lambda _: None).run(
                 q.name, **{p.name: REQUIRED[(q.name, p.name)] for p in q.params if p.required}).height]
    assert empty == []


def _golden_struct_schema() -> pa.Schema:
    """The ``structs`` Glue schema plus the custom attributes of the golden messages, declared as a user would."""
    s = glue_schema("structs")
    md = s.field("metadata").type
    ed = s.field("event_details").type
    md = pa.struct(list(md) + [pa.field("plan", pa.string())])
    ed = pa.struct([f for f in ed if f.name != "items"]
                   + [pa.field("items", pa.list_(pa.struct([("sku", pa.string())]))), pa.field("label", pa.string())])
    return s.set(s.get_field_index("metadata"), pa.field("metadata", md)).set(
        s.get_field_index("event_details"), pa.field("event_details", ed))


@pytest.fixture(scope="module")
def golden_cons(tmp_path_factory):
    base = tmp_path_factory.mktemp("golden-equiv")
    msgs = golden.messages()
    (base / "jsonl").mkdir()
    cons = {"jsonl": catalog.connect(golden.build(base / "jsonl"))}
    for name, schema in (("structs", _golden_struct_schema()), ("json-strings", glue_schema("json-strings"))):
        (base / name).mkdir()
        pq.write_table(messages_table(msgs, schema), base / name / "part-0", compression="snappy")
        r = ingest(base / name / "data", [str(base / name / "part-0")])
        assert (r.written, r.rejected) == (12, 0)
        cons[name] = catalog.connect(base / name / "data")
    yield cons
    for c in cons.values():
        c.close()


CASES = [c for f in golden.fixture_files() for c in golden.parse_fixture(f)]


def _result(con, query: str):
    try:
        df = insights.run(con, query)
    except Exception as e:  # a case that errors must error the same way on every route
        return ("error", type(e).__name__, str(e))
    return df.columns, [tuple(r) for r in df.iter_rows()]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_golden_insights_agree(golden_cons, case):
    want = _result(golden_cons["jsonl"], case.query)
    for route in ("structs", "json-strings"):
        got = _result(golden_cons[route], case.query)
        if route in MESSAGE_TEXT_CASES.get(case.id, ()):
            assert got != want, f"{case.id} via {route} agrees now: take it off MESSAGE_TEXT_CASES"
            assert got[0] == want[0] and len(got[1]) == len(want[1])  # same columns and rows, other text
        else:
            assert got == want, f"{case.id} via {route}"


def test_message_text_exceptions_are_real_cases():
    ids = {c.id for c in CASES}
    assert set(MESSAGE_TEXT_CASES) <= ids, set(MESSAGE_TEXT_CASES) - ids


def test_reconstructed_messages_parse_to_the_same_documents(golden_cons):
    """Where the text differs, the JSON does not: same keys (RUM spellings) and values, numbers compared as numbers."""
    q = "SELECT event_id, message FROM events ORDER BY event_id"
    want = {e: json.loads(m) for e, m in golden_cons["jsonl"].execute(q).fetchall()}
    for route in ("structs", "json-strings"):
        got = {e: json.loads(m) for e, m in golden_cons[route].execute(q).fetchall()}
        assert got == want, route


def test_golden_fixture_dir_exists():
    assert Path(golden.FIXTURES).is_dir() and len(CASES) > 50


def test_parquet_overlapping_the_json_export_dedups_exactly(generated, tmp_path):
    """A Firehose Parquet stream and an export task of the same events: every event once, the rest duplicates."""
    from rumq.maintenance import dataset_info

    base = generated["jsonl"].parent
    n = dataset_info(generated["jsonl"])["events"]
    r = ingest(tmp_path / "both", [str(base / "src-jsonl"), str(base / "src-structs")])
    assert (r.read, r.written, r.duplicates, r.rejected) == (2 * n, n, n, 0)
    for name in ("sessions/summary", "pages/entry"):
        want = Dataset(generated["jsonl"], notify=lambda _: None).run(name).to_dicts()
        assert Dataset(tmp_path / "both", notify=lambda _: None).run(name).to_dicts() == want, name
