"""The store stage has one owner: files are placed and listed through ``Store``, and
every reader of the manifest goes through ``Store.load_state`` (its version check)."""

from __future__ import annotations

import json
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rumdata import event, write_jsonl

from rumq import catalog, views
from rumq.errors import DatasetError
from rumq.ingest import ingest
from rumq.ingest.staging import StageConfig, StageJob
from rumq.maintenance import compact
from rumq.store import StagedFile, Store


def test_place_moves_staged_files_in_and_only_a_commit_makes_them_visible(tmp_path):
    store = Store(tmp_path / "data")
    staging = store.new_staging("w1")
    src = staging / "x.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3]}), src)
    rej = staging / "rejects.jsonl"
    rej.write_text('{"reason": "r"}\n')
    with store.lock():
        state = store.load_state()
        entries = store.place([StagedFile(src, "2026-11-25", "part-w1-0.parquet", 3, "page_view")], "w1")
        dest = tmp_path / "data" / "events" / "event_date=2026-11-25" / "part-w1-0.parquet"
        assert entries == [{"path": "events/event_date=2026-11-25/part-w1-0.parquet", "date": "2026-11-25",
                            "rows": 3, "bytes": dest.stat().st_size, "ingest_id": "w1", "event_name": "page_view"}]
        assert dest.exists() and not src.exists()
        assert store.event_files() == []  # placed is not committed
        rentry = store.place_rejects(rej, "w1", 1)
        assert rentry == {"path": "rejects/w1.jsonl", "rows": 1, "bytes": 16, "ingest_id": "w1"}
        state.files += entries
        state.rejects.append(rentry)
        store.commit(state)
    assert store.event_files() == [str(dest)]
    assert store.rejects_files() == [str(tmp_path / "data" / "rejects" / "w1.jsonl")]
    store.discard([entries[0]["path"]])
    assert not dest.exists()


def test_ingest_and_compact_write_the_same_manifest_entries(tmp_path):
    evs = [event(t, at=f"2026-11-25T10:00:{i:02d}") for i in range(3) for t in ("page_view", "http")]
    for i in range(2):
        ingest(tmp_path / "data", [str(write_jsonl(tmp_path / f"e{i}.jsonl", evs[3 * i: 3 * i + 3]))])
    store = Store(tmp_path / "data")
    before = store.load_state().files
    assert {tuple(sorted(f)) for f in before} == {("bytes", "date", "event_name", "ingest_id", "path", "rows")}
    compact(tmp_path / "data", allow_growth=True)  # the clustered layout, whatever its size
    after = store.load_state().files
    assert sorted((f["event_name"], f["rows"]) for f in after) == [
        ("http", 3), ("page_view", 3)]  # event_name is the short name
    for f in after:
        assert set(f) == {"bytes", "date", "event_name", "ingest_id", "path", "rows"}
        assert (tmp_path / "data" / f["path"]).stat().st_size == f["bytes"]
    # the replaced files are gone from disk
    assert sorted(p.name for p in (tmp_path / "data" / "events").rglob("*.parquet")) == sorted(
        f["path"].rsplit("/", 1)[1] for f in after)


def test_the_views_read_ingest_totals_through_the_store_and_its_version_check(tmp_path):
    ingest(tmp_path / "data", [str(write_jsonl(tmp_path / "a.jsonl", [event(), event()]))])
    con = catalog.connect(tmp_path / "data")
    assert con.execute("SELECT ingests, read, written FROM ingest_totals").fetchone() == (1, 2, 2)
    state_path = tmp_path / "data" / "_rumq" / "state.json"
    state = json.loads(state_path.read_text())
    state_path.write_text(json.dumps({**state, "version": 99}))
    bare = catalog.new_connection()
    bare.execute("CREATE VIEW events AS SELECT * FROM (SELECT 1 AS x) WHERE false").fetchall()
    with pytest.raises(DatasetError, match="has version 99"):
        views._ingest_totals(bare, tmp_path / "data")


def test_stage_config_travels_to_a_worker_as_json_unchanged():
    cfg = StageConfig("/s/parts", "/s", "20261125T100000Z-abc", datetime(2026, 11, 25, 10, 0, 0, 123456),
                      log_group="/aws/rum/x", threads=1, tag="w1")
    assert StageConfig.from_json(json.loads(json.dumps(cfg.to_json()))) == cfg
    job = StageJob("/in/a.jsonl", "/in/a.jsonl", "jsonl", 3)
    assert StageJob(**json.loads(json.dumps(job.to_json()))) == job
