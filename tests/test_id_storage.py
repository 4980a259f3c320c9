"""session_id / user_id storage: a UUID pair member for canonical UUIDs, text for anything else."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from rumdata import event, write_jsonl

import rumq
from rumq import catalog
from rumq.errors import DatasetError
from rumq.ingest import ingest
from rumq.maintenance import dataset_info
from rumq.store import Store

LOWER = "0f8fad5b-d9cb-469f-a165-70867728950e"  # canonical: stored as UUID
UPPER = "7C9E6679-7425-40DE-944B-E07FC1F90AE7"  # a UUID, not canonical: kept as text
BRACED = "{16fd2706-8baf-433b-82eb-8c7fada847da}"
USER_A = "a0000000-0000-4000-8000-000000000001"
USER_B = "b0000000-0000-4000-8000-000000000002"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ids")
    events = [
        event("page_view", at="2026-11-25T10:00:00", session=LOWER, user=USER_B, interaction=0),
        # Same session, another user id: the session's user is the smaller, as text.
        event("http", at="2026-11-25T10:00:05", session=LOWER, user=USER_A),
        event("page_view", at="2026-11-25T10:01:00", session=UPPER, user="user-text", interaction=0),
        event("js_error", at="2026-11-25T10:01:09", session=UPPER, user="user-text"),
        event("page_view", at="2026-11-25T10:02:00", session=BRACED, user=USER_A, interaction=0),
        event("page_view", at="2026-11-25T10:03:00", session="s-1", user=USER_B, interaction=0),
        # Mixed user kinds in one session: "user-text" > the UUIDs as text ('u' > 'b').
        event("page_view", at="2026-11-25T10:03:30", session="s-1", user="user-text", interaction=1),
        event("page_view", at="2026-11-25T10:04:00"),  # cookieless: nil ids -> NULL
    ]
    write_jsonl(tmp / "in.jsonl", events)
    ingest(tmp / "data", [str(tmp / "in.jsonl")])
    return tmp / "data"


def test_ids_read_back_exactly_as_sent(data):
    con = catalog.connect(data)
    got = con.execute("SELECT session_id, user_id FROM events ORDER BY event_time").fetchall()
    assert got == [
        (LOWER, USER_B), (LOWER, USER_A), (UPPER, "user-text"), (UPPER, "user-text"),
        (BRACED, USER_A), ("s-1", USER_B), ("s-1", "user-text"), (None, None),
    ]


def test_only_canonical_uuids_are_stored_as_uuid(data):
    files = Store(data).event_files()
    t = pq.read_table(files, columns=["session_uuid", "session_text", "user_uuid", "user_text", "event_time"])
    schema = pq.ParquetFile(files[0]).schema
    col = schema.column(schema.names.index("session_uuid"))
    assert col.physical_type == "FIXED_LEN_BYTE_ARRAY" and str(col.logical_type) == "UUID"
    rows = sorted(zip(*(t[c].to_pylist() for c in ("event_time", "session_uuid", "session_text")), strict=True))
    uuid_set = [r[1] is not None for r in rows]
    text = [r[2] for r in rows]
    assert uuid_set == [True, True, False, False, False, False, False, False]
    assert text == [None, None, UPPER, UPPER, BRACED, "s-1", "s-1", None]


def test_session_stats_group_both_kinds(data):
    con = catalog.connect(data)
    got = con.execute(
        "SELECT session_id, user_id, page_views, js_errors, http_requests, duration_s FROM session_stats "
        "WHERE NOT cookieless ORDER BY start_time"
    ).fetchall()
    assert got == [
        (LOWER, USER_A, 1, 0, 1, 5.0),
        (UPPER, "user-text", 1, 1, 0, 9.0),
        (BRACED, USER_A, 1, 0, 0, 0.0),
        ("s-1", USER_B, 2, 0, 0, 30.0),
    ]
    # sessions joins session_page_stats on the same ids.
    entries = con.execute("SELECT session_id, page_views, entry_page_raw FROM sessions WHERE NOT cookieless").fetchall()
    assert sorted(entries, key=str) == sorted(
        [(LOWER, 1, "/"), (UPPER, 1, "/"), (BRACED, 1, "/"), ("s-1", 2, "/")], key=str)


def test_info_counts_distinct_ids_of_both_kinds(data):
    info = dataset_info(data)
    assert (info["sessions"], info["users"]) == (4, 3)


def test_polars_events_render_the_same_ids(data):
    lf = rumq.open(data).events()
    got = lf.sort("event_time").select("session_id", "user_id").collect().rows()
    con = catalog.connect(data)
    assert got == con.execute("SELECT session_id, user_id FROM events ORDER BY event_time").fetchall()


def test_a_dataset_of_format_1_gets_a_clear_error(tmp_path, data):
    state = json.loads((data / "_rumq" / "state.json").read_text())
    old = tmp_path / "old"
    (old / "_rumq").mkdir(parents=True)
    (old / "_rumq" / "state.json").write_text(json.dumps({**state, "version": 1}))
    with pytest.raises(DatasetError) as e:
        Store(old).load_state()
    assert "version 1" in str(e.value) and "re-ingest" in e.value.hint
