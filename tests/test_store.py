"""Dataset integrity: dedup, manifest, atomic commits under kill -9, the writers' lock, compaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from rumdata import dumps, event, firehose_doc, write_export_task, write_firehose, write_jsonl

from rumq import catalog
from rumq.cli import cli
from rumq.errors import DatasetLockedError, ExitCode
from rumq.ingest import ingest
from rumq.maintenance import compact
from rumq.store import Store


def _count(data) -> int:
    con = catalog.connect(data, views=False)
    n = con.execute("SELECT count(*) FROM events").fetchone()[0]
    distinct = con.execute("SELECT count(DISTINCT event_id) FROM events").fetchone()[0]
    con.close()
    assert n == distinct, "an event_id is stored twice"
    return n


def test_overlapping_exports_never_double_count(tmp_path):
    evs = [event(at=f"2026-11-25T10:00:{i:02d}") for i in range(40)]
    write_export_task(tmp_path / "export", evs[:30])
    write_firehose(tmp_path / "fh" / "obj", [firehose_doc(evs[20:])])  # 20..39 overlap 20..29
    r1 = ingest(tmp_path / "data", [str(tmp_path / "export")])
    r2 = ingest(tmp_path / "data", [str(tmp_path / "fh")])
    assert (r1.written, r1.duplicates) == (30, 0)
    assert (r2.read, r2.written, r2.duplicates) == (20, 10, 10)
    assert _count(tmp_path / "data") == 40


def test_duplicates_within_one_ingest(tmp_path):
    e = event()
    write_jsonl(tmp_path / "a.jsonl", [e, e, event()])
    r = ingest(tmp_path / "data", [str(tmp_path / "a.jsonl")])
    assert (r.read, r.written, r.duplicates) == (3, 2, 1)


def test_reingesting_the_same_file_is_a_noop_that_says_so(tmp_path):
    p = write_jsonl(tmp_path / "a.jsonl", [event(), event()])
    ingest(tmp_path / "data", [str(p)])
    notices = []
    r = ingest(tmp_path / "data", [str(p)], on_notice=notices.append)
    assert r.read == 0 and r.files[0].status == "already-ingested"
    assert any("already ingested" in n for n in notices)
    state = Store(tmp_path / "data").load_state()
    (inp,) = state.inputs.values()
    assert (inp["read"], inp["written"], inp["size"]) == (2, 2, p.stat().st_size)
    assert _count(tmp_path / "data") == 2


def test_state_lists_only_committed_files_and_recover_removes_orphans(tmp_path):
    p = write_jsonl(tmp_path / "a.jsonl", [event()])
    ingest(tmp_path / "data", [str(p)])
    store = Store(tmp_path / "data")
    orphan = store.partition_dir("2026-11-25") / "part-crashed-0.parquet"
    orphan.write_bytes(b"PAR1 half written")
    (store.staging_dir / "x").mkdir(parents=True)
    assert str(orphan) not in store.event_files()
    assert _count(tmp_path / "data") == 1  # readers never see it
    with store.lock():
        removed = store.recover()
    assert str(orphan) in removed and not orphan.exists()


def _big_input(path: Path, n: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    base = dumps(event(at="2026-11-25T10:00:00", event_id="EVENTID"))
    with open(path, "w") as f:
        for i in range(n):
            f.write(base.replace("EVENTID", f"ev-{i:08d}").replace("1764064800000", str(1764064800000 + i * 1000)) + "\n")
    return path


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return {int(x) for x in out.split()}


def _alive(pids: set[int]) -> set[int]:
    return {p for p in pids if Path(f"/proc/{p}").exists() and "zombie" not in
            Path(f"/proc/{p}/status").read_text().lower()}


@pytest.mark.slow
def test_kill_9_during_ingest_leaves_before_or_after(tmp_path):
    data = tmp_path / "data"
    first = write_jsonl(tmp_path / "first.jsonl", [event(at="2026-11-20T10:00:00")])
    ingest(data, [str(first)])
    n = 75_000
    # Two files, over the size that makes ingest use worker processes.
    a = _big_input(tmp_path / "in" / "a.jsonl", n)
    b = tmp_path / "in" / "b.jsonl"
    b.write_text(a.read_text().replace('"ev-', '"evb-'))
    script = "import sys; from rumq.ingest import ingest; ingest(sys.argv[1], [sys.argv[2]])"
    workers: set[int] = set()
    for delay in (0.3, 0.8, 1.5, 2.5, 4.0):
        proc = subprocess.Popen([sys.executable, "-c", script, str(data), str(tmp_path / "in")])
        time.sleep(delay)
        workers |= _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        got = _count(data)
        assert got in (1, 1 + 2 * n), f"half-written dataset after kill at {delay}s: {got}"
        if got == 1 + 2 * n:
            break
    time.sleep(0.5)
    assert workers, "the ingest never started its worker processes"
    assert not _alive(workers)  # workers die with the ingest
    # Whatever happened, ingesting again completes the dataset exactly once.
    r = ingest(data, [str(tmp_path / "in")])
    assert _count(data) == 1 + 2 * n
    assert r.read in (0, 2 * n)
    assert not any((data / "_rumq" / "staging").iterdir())


def test_second_writer_waits_or_fails_clearly(tmp_path):
    p = write_jsonl(tmp_path / "a.jsonl", [event()])
    store = Store(tmp_path / "data")
    runner = CliRunner()
    with store.lock():
        with pytest.raises(DatasetLockedError, match="another rumq process"):
            ingest(tmp_path / "data", [str(p)], wait=False)
        res = runner.invoke(cli, ["--data", str(tmp_path / "data"), "ingest", "--no-wait", str(p)])
        assert res.exit_code == ExitCode.LOCKED
        notices: list[str] = []
        t = threading.Thread(target=lambda: ingest(tmp_path / "data", [str(p)], on_notice=notices.append))
        t.start()
        time.sleep(0.5)
        assert t.is_alive()  # it is waiting for us
    t.join(30)
    assert not t.is_alive()
    assert any("waiting" in n for n in notices)
    assert _count(tmp_path / "data") == 1


def test_compact_merges_small_files_atomically(tmp_path):
    data = tmp_path / "data"
    for i in range(3):
        ingest(data, [str(write_jsonl(tmp_path / f"{i}.jsonl", [event(at=f"2026-11-25T1{i}:00:00") for _ in range(5)]))])
    store = Store(data)
    assert len(store.event_files()) == 3
    before = _count(data)
    r = compact(data)
    assert r["partitions"] == 1 and len(store.event_files()) == 1
    assert _count(data) == before
    leftovers = [p for p in store.events_dir.rglob("*.parquet") if str(p) not in store.event_files()]
    assert leftovers == []


def test_window_reads_only_that_days_files(tmp_path):
    from datetime import datetime

    data = tmp_path / "data"
    ingest(data, [str(write_jsonl(tmp_path / "a.jsonl",
                                  [event(at=f"2026-11-{d}T12:00:00") for d in (23, 24, 25)]))])
    files = catalog.window_files(data, datetime(2026, 11, 24), datetime(2026, 11, 25))
    assert [Path(f).parent.name for f in files] == ["event_date=2026-11-24"]
    con = catalog.connect(data, since=datetime(2026, 11, 24), until=datetime(2026, 11, 25), views=False)
    assert con.execute("SELECT count(*), min(event_date) FROM events").fetchone()[0] == 1
    assert os.path.exists(files[0])


def test_large_ingest_uses_worker_processes_and_stays_exact(tmp_path):
    from rumq.ingest import staging as ingest_mod

    a = _big_input(tmp_path / "a.jsonl", 6000)
    # b repeats a's first 1000 events: duplicates across files of one ingest
    lines = a.read_text().splitlines()
    (tmp_path / "b.jsonl").write_text("\n".join(lines[:1000] + [
        ln.replace('"ev-', '"evb-') for ln in lines[1000:]]) + "\nnot json\n")
    total = a.stat().st_size + (tmp_path / "b.jsonl").stat().st_size
    assert total >= ingest_mod.PARALLEL_MIN_BYTES  # so the worker path runs
    r = ingest(tmp_path / "data", [str(a), str(tmp_path / "b.jsonl")])
    assert (r.read, r.written, r.duplicates, r.rejected) == (12001, 11000, 1000, 1)
    assert _count(tmp_path / "data") == 11000


@pytest.mark.parametrize("workers", ["1", "3"])
def test_the_number_of_ingest_workers_changes_nothing_but_the_files(tmp_path, monkeypatch, workers):
    a = _big_input(tmp_path / "a.jsonl", 6000)
    lines = a.read_text().splitlines()
    for i in (1, 2):  # three files, so three workers can each take one
        (tmp_path / f"{i}.jsonl").write_text("\n".join(ln.replace('"ev-', f'"ev{i}-') for ln in lines) + "\n")
    monkeypatch.setenv("RUMQ_INGEST_WORKERS", workers)
    r = ingest(tmp_path / "data", [str(a), str(tmp_path / "1.jsonl"), str(tmp_path / "2.jsonl")])
    assert (r.read, r.written, r.duplicates, r.rejected) == (18000, 18000, 0, 0)
    assert _count(tmp_path / "data") == 18000
    tags = {Path(f).stem.rsplit("-", 2)[-2] for f in Store(tmp_path / "data").event_files()}
    assert len(tags) == int(workers)  # one writer tag (w0, w1, ...) per worker process


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_ingest_workers_value_is_a_usage_error(tmp_path, monkeypatch, value):
    from rumq.errors import UsageError

    monkeypatch.setenv("RUMQ_INGEST_WORKERS", value)
    with pytest.raises(UsageError, match="RUMQ_INGEST_WORKERS"):
        ingest(tmp_path / "data", [str(write_jsonl(tmp_path / "a.jsonl", [event()]))])
    assert not (tmp_path / "data").exists()


def test_repeated_small_ingests_do_not_pile_up_small_files(tmp_path):
    from rumq.maintenance import AUTO_COMPACT_FILES

    data = tmp_path / "data"
    for i in range(AUTO_COMPACT_FILES + 3):
        ingest(data, [str(write_jsonl(tmp_path / f"{i}.jsonl", [event(at=f"2026-11-25T10:{i:02d}:00")]))])
        assert len(Store(data).event_files()) < AUTO_COMPACT_FILES
    assert _count(data) == AUTO_COMPACT_FILES + 3


def test_large_records_are_batched_by_size_not_only_count(tmp_path, monkeypatch):
    from rumq.ingest import readers, staging

    monkeypatch.setattr(staging, "GROUP_BYTES", 16 << 20)  # 80 records of 700 KB are 56 MB

    blob = "x" * 700_000  # near the largest real event; 80 of them exceed one batch's text budget
    evs = [event(at=f"2026-11-25T10:00:{i % 60:02d}", details={"version": "1.0.0", "blob": blob}) for i in range(80)]
    p = write_jsonl(tmp_path / "big.jsonl", evs)
    assert p.stat().st_size > readers.BATCH_CHARS
    r = ingest(tmp_path / "data", [str(p)])
    assert (r.read, r.written, r.rejected) == (80, 80, 0)
    import pyarrow.parquet as pq

    (f,) = Store(tmp_path / "data").event_files()
    assert pq.ParquetFile(f).num_row_groups >= 2  # written in more than one batch


def test_the_input_manifest_lives_in_its_own_file_replaced_by_each_ingest(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [event(at="2026-11-25T10:00:00", page="/a")])
    write_jsonl(tmp_path / "b.jsonl", [event(at="2026-11-25T10:00:01", page="/b")])
    data = tmp_path / "data"
    ingest(data, [str(tmp_path / "a.jsonl")])
    first = Store(data).load_state().inputs_file
    assert first.startswith("_rumq/inputs/") and (data / first).is_file()
    assert "inputs" not in (data / "_rumq" / "state.json").read_text().split('"inputs_file"')[0]
    ingest(data, [str(tmp_path / "b.jsonl")])
    st = Store(data).load_state()
    assert st.inputs_file != first and not (data / first).exists()  # the old one deleted after the commit
    assert sorted(e["path"] for e in st.inputs.values()) == [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    # compact touches no input: the same input manifest stays
    compact(data, min_files=1)
    assert Store(data).load_state().inputs_file == st.inputs_file
    # an input manifest no state names (a writer died before its commit) is removed by the next writer
    stray = data / "_rumq" / "inputs" / "inputs-deadbeef.json.gz"
    stray.write_bytes(b"")
    r = ingest(data, [str(tmp_path / "a.jsonl")])
    assert str(stray) in r.recovered and not stray.exists()
    assert [f.status for f in r.files] == ["already-ingested"]


def test_placed_files_and_their_folders_are_synced_before_the_state(tmp_path, monkeypatch):
    # A power loss must not leave a committed state naming a file whose bytes never reached the disk:
    # every placed file, its folder and the folder above are fsynced before state.json is replaced.
    # os.fsync is wrapped to note what it syncs (the real call still runs).
    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def replace(src, dst) -> None:
        if str(dst).endswith("state.json"):
            synced.append("STATE")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    data = tmp_path / "data"
    ingest(data, [str(write_jsonl(tmp_path / "a.jsonl", [event(), event(at="2026-11-26T10:00:00")]))])
    # A new dataset's empty state comes first (before anything is placed), then the state listing the files.
    assert synced.count("STATE") == 2
    before_state = synced[:len(synced) - 1 - synced[::-1].index("STATE")]
    files = [str(data / f) for f in Store(data).event_files()]
    assert files
    for f in files:
        name = Path(f).name
        assert not any(s.endswith(name) for s in synced[:synced.index("STATE")]), "placed before the first state"
        assert any(s.endswith(name) for s in before_state), f"{name} not synced before the state"
        assert str(Path(f).parent) in before_state and str(Path(f).parent.parent) in before_state
