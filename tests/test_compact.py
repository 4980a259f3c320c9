"""compact: one file per (day, event_name), single-event_name row groups, every row kept, atomic.

The clustered layout is asked for with ``allow_growth=True``: on data this small one file per
event type is larger than the mixed files (Parquet footers), and compact never grows a dataset
unless told to (tests/test_compact_size.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from rumdata import event, write_jsonl

from rumq import catalog, maintenance
from rumq.ingest import ingest
from rumq.maintenance import compact, compact_locked
from rumq.store import Store

# A custom event type with characters that need escaping in a Hive path.
ODD = "com.example.shop/odd=name %2F x"
TYPES = ("page_view", "http", "js_error", "largest_contentful_paint", "navigation", ODD)
NAMES = ("page_view", "http", "js_error", "lcp", "navigation", ODD)


def _mixed_events(day: str, n: int, tag: str) -> list[dict]:
    return [event(TYPES[i % len(TYPES)], at=f"{day}T10:{(i // 60) % 60:02d}:{i % 60:02d}",
                  session=f"s-{tag}-{i // 7}", user="u-1", page=f"/p/{i % 5}") for i in range(n)]


def _rows(data) -> list[tuple]:
    """Every stored row, in a canonical order (what must survive a compaction unchanged)."""
    con = catalog.connect(data, views=False)
    rows = con.execute("SELECT * EXCLUDE (metadata, event_details) FROM events ORDER BY event_id").fetchall()
    con.close()
    return rows


def _row_groups(files: list[str]) -> list[tuple]:
    """(file, row group, rows, min event_name, max event_name) of every row group, from the Parquet footers."""
    con = duckdb.connect()
    out = con.execute(
        "SELECT file_name, row_group_id, row_group_num_rows, stats_min_value, stats_max_value "
        "FROM parquet_metadata(?) WHERE path_in_schema = 'event_name' ORDER BY 1, 2", [files]
    ).fetchall()
    con.close()
    return out


def _check_clustered(data) -> list[dict]:
    """Assert the clustered layout and return the manifest's file entries."""
    store = Store(data)
    files = store.load_state().files
    groups = _row_groups([str(store.root / f["path"]) for f in files])
    assert groups and all(lo == hi for _f, _g, _n, lo, hi in groups), "a row group mixes event_names"
    by_file: dict[str, set[str]] = {}
    rows: dict[str, int] = {}
    for f, _g, n, lo, _hi in groups:
        by_file.setdefault(f, set()).add(lo)
        rows[f] = rows.get(f, 0) + n
    for f in files:
        path = str(store.root / f["path"])
        assert by_file[path] == {f["event_name"]}  # the manifest names the file's one event_name
        assert rows[path] == f["rows"]
        assert (store.root / f["path"]).stat().st_size == f["bytes"]
    keys = [(f["date"], f["event_name"]) for f in files]
    assert len(keys) == len(set(keys)), "an event_name of a day is spread over several files"
    on_disk = sorted(str(p.relative_to(store.root)) for p in store.events_dir.rglob("*") if p.is_file())
    assert on_disk == sorted(f["path"] for f in files)  # nothing left behind, nothing missing
    assert not store.staging_dir.exists() or not any(store.staging_dir.iterdir())
    return files


def _forget_event_names(data) -> None:
    """Make the manifest look like one written before files were clustered (no event_name key)."""
    path = Path(data) / "_rumq" / "state.json"
    st = json.loads(path.read_text())
    for f in st["files"]:
        f.pop("event_name", None)
    path.write_text(json.dumps(st))


@pytest.fixture
def mixed(tmp_path):
    """A dataset of two days whose files each mix every event type (as written before clustering)."""
    data = tmp_path / "data"
    for k in range(3):
        evs = _mixed_events("2026-11-24", 40, f"a{k}") + _mixed_events("2026-11-25", 25, f"b{k}")
        ingest(data, [str(write_jsonl(tmp_path / f"in{k}.jsonl", evs))])
    _forget_event_names(data)
    return data


def test_compact_writes_one_file_per_day_and_event_name(mixed):
    before = _rows(mixed)
    assert len(before) == 3 * 65
    r = compact(mixed, allow_growth=True)
    assert r["partitions"] == 2
    files = _check_clustered(mixed)
    assert sorted((f["date"], f["event_name"]) for f in files) == sorted(
        (d, n) for d in ("2026-11-24", "2026-11-25") for n in NAMES)
    assert r["files_after"] == len(files) == 12
    assert _rows(mixed) == before  # every row, every column, unchanged


def test_compact_is_idempotent(mixed):
    compact(mixed, allow_growth=True)
    state = Store(mixed).state_path.read_text()
    assert compact(mixed, allow_growth=True) == {"partitions": 0, "files_before": 12, "files_after": 12,
                                                "kept": []}
    assert Store(mixed).state_path.read_text() == state


def test_compact_merges_single_event_name_files_and_keeps_lone_ones(mixed):
    compact(mixed, allow_growth=True)
    before = _rows(mixed)
    lone = {f["path"] for f in Store(mixed).load_state().files if f["event_name"] == "lcp"}
    # A later ingest brings page views only: page_view of 2026-11-25 now has two files.
    ingest(mixed, [str(write_jsonl(Path(mixed).parent / "more.jsonl",
                                   [event(at="2026-11-25T12:00:00", session="s-new", user="u-2")]))])
    r = compact(mixed, allow_growth=True)
    assert r["partitions"] == 1
    files = _check_clustered(mixed)
    assert len(_rows(mixed)) == len(before) + 1
    assert lone <= {f["path"] for f in files}  # untouched files were not rewritten


def test_compact_row_groups_stay_single_valued_across_many_row_groups(tmp_path, monkeypatch):
    # Small row groups, so every file of the result holds several of them.
    monkeypatch.setattr(maintenance, "COMPACT_ROW_GROUP", 2048)
    monkeypatch.setattr(maintenance, "SPLIT_ROW_GROUP", 2048)
    data = tmp_path / "data"
    ingest(data, [str(write_jsonl(tmp_path / "a.jsonl", _mixed_events("2026-11-25", 15_000, "x")))])
    _forget_event_names(data)
    before = _rows(data)
    compact(data, allow_growth=True)
    files = _check_clustered(data)
    assert len(files) == len(TYPES)
    assert max(g for _f, g, *_ in _row_groups([str(Path(data) / f["path"]) for f in files])) >= 1
    assert _rows(data) == before


def test_small_file_merge_orders_rows_by_event_name(tmp_path):
    data = tmp_path / "data"
    for k in range(4):
        ingest(data, [str(write_jsonl(tmp_path / f"{k}.jsonl", _mixed_events("2026-11-25", 12, f"k{k}")))])
    _forget_event_names(data)
    before = _rows(data)
    store = Store(data)
    with store.lock():
        r = compact_locked(store, min_files=2, small_rows=10_000)
    assert r["partitions"] == 1
    [f] = store.load_state().files
    assert f["event_name"] is None and f["rows"] == 48  # a mixed file
    con = duckdb.connect()
    names = [n for (n,) in con.execute("SELECT event_name FROM read_parquet(?)", [str(store.root / f["path"])]).fetchall()]
    assert names == sorted(names)
    assert _rows(data) == before


def test_failed_compact_leaves_the_dataset_as_it_was(mixed):
    store = Store(mixed)
    state = store.state_path.read_text()
    files = store.load_state().files
    victim = store.root / files[-1]["path"]
    victim.write_bytes(victim.read_bytes()[:100])  # an unreadable file makes the merge fail midway
    with pytest.raises(duckdb.Error):
        compact(mixed, allow_growth=True)
    assert store.state_path.read_text() == state
    assert all((store.root / f["path"]).is_file() for f in files)
    assert not store.staging_dir.exists() or not any(store.staging_dir.iterdir())
