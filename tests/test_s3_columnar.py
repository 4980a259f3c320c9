"""Parquet and ORC exports read straight from a bucket on the test S3 server: the same code path as local files."""

from __future__ import annotations

import json

import pyarrow.orc as po
import pyarrow.parquet as pq
from click.testing import CliRunner
from rumdata import event

from rumq.cli import cli
from rumq.generate.glue import glue_schema, messages_table
from rumq.maintenance import iter_rejects

S1 = "11111111-1111-4111-8111-111111111111"
U1 = "aaaaaaaa-1111-4111-8111-111111111111"


def _events(prefix: str) -> list[dict]:
    """Three page views of one session (ids prefix-0..2)."""
    return [event("page_view", at=f"2026-11-25T10:00:0{i}", event_id=f"{prefix}-{i}", session=S1, user=U1,
                  interaction=i, page=f"/p{i}", details={"version": "1.0.0", "pageId": f"/p{i}", "interaction": i,
                                          "pageInteractionId": f"/p{i}-{i}"})
            for i in range(3)]


def _run(data, *args):
    return CliRunner().invoke(cli, ["--data", str(data), *args])


def _page_views(data) -> list[tuple]:
    res = _run(data, "sql", "SELECT event_id, page_id, message_reconstructed FROM events ORDER BY event_id",
               "--format", "json")
    assert res.exit_code == 0, res.output
    return [tuple(r.values()) for r in json.loads(res.stdout)]


def test_parquet_and_orc_objects_ingest_like_local_files(s3, tmp_path):
    _, client, bucket = s3
    local = tmp_path / "local"
    (local / "year=2026" / "month=11").mkdir(parents=True)
    pq.write_table(messages_table(_events("pq"), glue_schema("structs")),
                   local / "year=2026" / "month=11" / "fh-1", compression="snappy")
    po.write_table(messages_table(_events("orc"), glue_schema("json-strings")), str(local / "orc-1"))
    (local / "broken").write_bytes(b"PAR1" + b"\0" * 40)  # Parquet magic, then nothing readable
    for p in local.rglob("*"):
        if p.is_file():
            client.upload_file(str(p), bucket, "conv/" + str(p.relative_to(local)))

    res = _run(tmp_path / "from-s3", "ingest", f"s3://{bucket}/conv/", "--format", "json")
    assert res.exit_code == 0, res.output
    formats = {f["path"].rsplit("/", 1)[-1]: f["format"] for f in json.loads(res.stdout)["files"]}
    assert formats == {"fh-1": "parquet", "orc-1": "orc", "broken": "parquet"}
    assert _run(tmp_path / "from-disk", "ingest", str(local)).exit_code == 0
    # The same 6 events, reconstructed (no message column), from the bucket and from disk.
    got = _page_views(tmp_path / "from-s3")
    assert [(e, p) for e, p, _ in got] == [(f"{k}-{i}", f"/p{i}") for k in ("orc", "pq") for i in range(3)]
    assert all(r for _, _, r in got)
    assert got == _page_views(tmp_path / "from-disk")
    # The damaged object is one reject naming the object, like a damaged local file.
    (rec,) = list(iter_rejects(tmp_path / "from-s3"))
    assert rec["source"] == f"s3://{bucket}/conv/broken" and rec["format"] == "parquet"
    assert rec["reason"].startswith("cannot read the Parquet file")
