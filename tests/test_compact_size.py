"""Bytes on disk: compact never grows a dataset; event files carry the measured Parquet settings."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rumdata import event, write_jsonl

from rumq import catalog
from rumq.ingest import ingest
from rumq.maintenance import CLUSTERING_GROWS, compact
from rumq.store import Store

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "exports"
TYPES = ("page_view", "http", "js_error", "largest_contentful_paint", "navigation", "resource")


def _bytes(data) -> int:
    """Bytes of the committed event files, measured on disk."""
    store = Store(data)
    return sum((store.root / f["path"]).stat().st_size for f in store.load_state().files)


def _rows(data) -> list[tuple]:
    con = catalog.connect(data, views=False)
    rows = con.execute("SELECT * EXCLUDE (metadata, event_details) FROM events ORDER BY event_id").fetchall()
    con.close()
    return rows


def _day(tmp_path, n_ingests: int, types: tuple[str, ...]) -> Path:
    """One day, ``n_ingests`` small ingests of 30 events each, cycling through ``types``."""
    data = tmp_path / "data"
    for k in range(n_ingests):
        evs = [event(types[i % len(types)], at=f"2026-11-25T1{k}:{i // 60:02d}:{i % 60:02d}",
                     session=f"s-{k}-{i // 6}", user=f"u-{k}", page=f"/p/{i % 4}") for i in range(30)]
        ingest(data, [str(write_jsonl(tmp_path / f"in{k}.jsonl", evs))])
    return data


def test_compacting_the_bundled_sample_data_does_not_grow_it(tmp_path):
    data = tmp_path / "data"
    report = ingest(data, [str(SAMPLE)])
    # sample_data/README.md: 17,710 generated events plus the 4 real samples.
    assert report.written == 17_714
    before, rows = _bytes(data), _rows(data)
    r = compact(data)
    assert _bytes(data) <= before
    assert _rows(data) == rows
    # Every day of the sample is a few thousand events: one file per event type would be larger.
    assert r["partitions"] + len(r["kept"]) == len({f["date"] for f in Store(data).load_state().files})


def test_a_day_whose_clustered_files_would_be_larger_keeps_its_files(tmp_path):
    data = _day(tmp_path, 2, TYPES)
    store = Store(data)
    paths, before, rows = [f["path"] for f in store.load_state().files], _bytes(data), _rows(data)
    r = compact(data)
    assert r == {"partitions": 0, "files_before": 2, "files_after": 2, "kept": ["2026-11-25"]}
    files = store.load_state().files
    assert [f["path"] for f in files] == paths and _bytes(data) == before
    assert all(f[CLUSTERING_GROWS] for f in files)  # marked: the next compact does not try again
    assert sorted(str(p.relative_to(data)) for p in store.events_dir.rglob("*.parquet")) == sorted(
        paths)  # nothing new left behind
    assert compact(data) == {"partitions": 0, "files_before": 2, "files_after": 2, "kept": []}
    # The rule is what kept it: asked for, the clustered layout (6 files) is written, and is larger.
    r = compact(data, allow_growth=True)
    assert r["partitions"] == 1 and r["files_after"] == len(TYPES)
    assert _bytes(data) > before
    assert _rows(data) == rows


def test_a_day_kept_as_it_was_is_tried_again_when_new_files_come(tmp_path):
    data = _day(tmp_path, 2, TYPES)
    assert compact(data)["kept"] == ["2026-11-25"]
    ingest(data, [str(write_jsonl(tmp_path / "more.jsonl", [event(at="2026-11-25T20:00:00", session="s-x")]))])
    r = compact(data)
    assert r["kept"] == ["2026-11-25"]  # tried again (and still larger: 3 small files)
    assert all(f[CLUSTERING_GROWS] for f in Store(data).load_state().files)


def test_a_merge_that_shrinks_the_day_is_applied(tmp_path):
    # Four small ingests of page views only: four files of one event type merge into one.
    data = _day(tmp_path, 4, ("page_view",))
    before, rows = _bytes(data), _rows(data)
    r = compact(data)
    assert r == {"partitions": 1, "files_before": 4, "files_after": 1, "kept": []}
    assert _bytes(data) < before
    assert _rows(data) == rows


def _encodings(files: list[str]) -> dict[str, tuple[set[str], set[str]]]:
    """column -> (compressions, encodings) over every column chunk of ``files``."""
    con = duckdb.connect()
    out: dict[str, tuple[set[str], set[str]]] = {}
    for col, comp, enc in con.execute(
        "SELECT path_in_schema, compression, encodings FROM parquet_metadata(?)", [files]
    ).fetchall():
        c, e = out.setdefault(col, (set(), set()))
        c.add(comp)
        e.update(x.strip() for x in enc.split(","))
    con.close()
    return out


def test_ingested_and_compacted_files_carry_the_measured_settings(tmp_path):
    data = _day(tmp_path, 2, TYPES)
    for allow in (False, True):  # the ingest's files, then compact's
        compact(data, allow_growth=allow)
        store = Store(data)
        enc = _encodings([str(store.root / f["path"]) for f in store.load_state().files])
        assert {c for comps, _ in enc.values() for c in comps} == {"ZSTD"}
        assert "BYTE_STREAM_SPLIT" in enc["duration"][1] and "BYTE_STREAM_SPLIT" in enc["vital_value"][1]
        assert "DELTA_BINARY_PACKED" in enc["_seq"][1] and "DELTA_BINARY_PACKED" in enc["source_line"][1]
        assert "RLE_DICTIONARY" not in enc["message_tail"][1] and "RLE_DICTIONARY" not in enc["event_id"][1]
        assert "RLE_DICTIONARY" in enc["session_uuid"][1] and "RLE_DICTIONARY" in enc["event_name"][1]
