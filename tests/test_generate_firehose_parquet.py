"""``rumq generate --format firehose-parquet``: what Firehose record format conversion writes, for both Glue schemas."""

from __future__ import annotations

import re

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from rumq.cli import cli
from rumq.generate import generate, iter_messages
from rumq.generate.glue import GLUE_SCHEMAS, glue_schema
from rumq.ingest import ingest

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("fhp")
    return {g: (base / g, generate(base / g, sessions=40, days=1, seed=5, fmt="firehose-parquet", glue_schema=g))
            for g in GLUE_SCHEMAS}


def _objects(root):
    return sorted(p for p in (root / "firehose-parquet").rglob("*") if p.is_file())


@pytest.mark.parametrize("glue", GLUE_SCHEMAS)
def test_layout_codec_and_schema(outputs, glue):
    root, truth = outputs[glue]
    objs = _objects(root)
    assert objs
    rows = 0
    for p in objs:
        rel = p.relative_to(root).as_posix()
        m = re.fullmatch(rf"firehose-parquet/year=(\d{{4}})/month=(\d\d)/day=(\d\d)/hour=(\d\d)/"
                         rf"rum-logs-delivery-1-(\d{{4}})-(\d\d)-(\d\d)-(\d\d)-\d\d-\d\d-{UUID}", rel)
        assert m, rel
        assert m.groups()[:4] == m.groups()[4:]  # the prefix is the object's delivery hour
        assert p.read_bytes()[:4] == b"PAR1"
        f = pq.ParquetFile(p)
        assert f.schema_arrow == glue_schema(glue)
        md = f.metadata
        assert {md.row_group(i).column(j).compression for i in range(md.num_row_groups)
                for j in range(md.num_columns)} == {"SNAPPY"}
        rows += md.num_rows
    assert rows == truth.total["events"]
    assert truth.data["params"]["format"] == "firehose-parquet"
    assert truth.data["params"]["glue_schema"] == glue


def test_structs_have_lowercased_keys_and_json_strings_hold_the_documents(outputs):
    st = glue_schema("structs")
    md_type = st.field("metadata").type
    names = [md_type.field(i).name for i in range(md_type.num_fields)]
    assert "browsername" in names and "aws:clientversion" in names
    assert all(n == n.lower() for n in names)
    assert glue_schema("json-strings").field("event_details").type == pa.string()
    # A JSON-strings row holds the event's own documents.
    messages = {m["event_id"]: m for m in (orjson.loads(x.message) for x in iter_messages(sessions=40, days=1, seed=5))}
    t = pq.read_table(_objects(outputs["json-strings"][0])[0])
    row = t.slice(0, 1).to_pylist()[0]
    src = messages[row["event_id"]]
    for doc in ("metadata", "user_details", "event_details"):
        assert orjson.loads(row[doc]) == src[doc]
    # A structs row: the same values under lowercased keys, fields not declared dropped.
    t = pq.read_table(_objects(outputs["structs"][0])[0])
    row = t.slice(0, 1).to_pylist()[0]
    src = messages[row["event_id"]]
    assert row["metadata"]["browsername"] == src["metadata"]["browserName"]
    assert row["user_details"] == {"sessionid": src["user_details"]["sessionId"],
                                   "userid": src["user_details"]["userId"]}


@pytest.mark.parametrize("glue", GLUE_SCHEMAS)
def test_ingests_back_with_no_rejects(outputs, glue, tmp_path):
    root, truth = outputs[glue]
    r = ingest(tmp_path / "data", [str(root)])
    assert {f.format for f in r.files if f.status == "ingested"} == {"parquet"}
    assert (r.read, r.written, r.rejected) == (truth.total["events"], truth.total["events"], 0)


def test_cli_glue_schema_option(tmp_path):
    res = CliRunner().invoke(cli, ["generate", "--sessions", "5", "--days", "1", "--format", "firehose-parquet",
                                   "--glue-schema", "json-strings", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    (obj, *_) = _objects(tmp_path / "o")
    assert pq.ParquetFile(obj).schema_arrow.field("metadata").type == pa.string()
    bad = CliRunner().invoke(cli, ["generate", "--sessions", "5", "--format", "firehose-parquet",
                                   "--glue-schema", "avro", "--out", str(tmp_path / "p")])
    assert bad.exit_code == 2 and "avro" in bad.output


def test_cli_choices_match_the_library():
    from rumq.cli import generate_cmd
    from rumq.generate import FORMATS

    assert generate_cmd._GLUE_SCHEMAS == GLUE_SCHEMAS
    assert generate_cmd._FORMATS == FORMATS
