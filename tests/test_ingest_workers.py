"""Worker processes of a large ingest: started early, handed files as they finish, never left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rumdata import dumps, event

from rumq import catalog
from rumq.ingest import ingest, staging
from rumq.store import Store


def _files(folder: Path, n_files: int, per_file: int) -> list[Path]:
    """``n_files`` JSON-lines files of distinct events; file 1 repeats file 0's first event, the last ends with a bad line."""
    folder.mkdir(parents=True, exist_ok=True)
    base = dumps(event(at="2026-11-25T10:00:00", event_id="EVENTID"))
    out = []
    for k in range(n_files):
        lines = [base.replace("EVENTID", f"ev-{k:03d}-{i:06d}") for i in range(per_file)]
        if k == 1:
            lines[0] = base.replace("EVENTID", "ev-000-000000")
        if k == n_files - 1:
            lines.append("not json")
        p = folder / f"{k:03d}.jsonl"
        p.write_text("\n".join(lines) + "\n")
        out.append(p)
    return out


def _alive_children() -> set[int]:
    """This process's children that are not zombies (Linux /proc)."""
    alive = set()
    for d in Path("/proc").iterdir():
        try:
            state, ppid = d.joinpath("stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if int(ppid) == os.getpid() and state != "Z":
            alive.add(int(d.name))
    return alive


@pytest.mark.parametrize("queued", [1, staging.QUEUED_BYTES])
def test_files_handed_out_as_workers_finish_are_each_staged_once(tmp_path, monkeypatch, queued):
    # 1 byte: every file is its own round trip; the default: small files go in bunches.
    monkeypatch.setattr(staging, "QUEUED_BYTES", queued)
    monkeypatch.setenv("RUMQ_INGEST_WORKERS", "2")
    files = _files(tmp_path / "in", 24, 450)
    assert sum(p.stat().st_size for p in files) >= staging.PARALLEL_MIN_BYTES  # the worker path runs
    r = ingest(tmp_path / "data", [str(tmp_path / "in")])
    assert (r.read, r.written, r.duplicates, r.rejected) == (24 * 450 + 1, 24 * 450 - 1, 1, 1)
    by_name = {Path(f.path).name: f for f in r.files}
    assert (by_name["001.jsonl"].read, by_name["001.jsonl"].duplicates) == (450, 1)
    assert (by_name["023.jsonl"].read, by_name["023.jsonl"].rejected) == (451, 1)
    con = catalog.connect(tmp_path / "data", views=False)
    counts = con.execute("SELECT count(DISTINCT source_file), count(*), count(DISTINCT event_id) FROM events").fetchone()
    con.close()
    assert counts == (24, 24 * 450 - 1, 24 * 450 - 1)
    tags = {Path(f).stem.rsplit("-", 2)[-2] for f in Store(tmp_path / "data").event_files()}
    assert tags == {"w0", "w1"}  # both workers got files


def test_a_worker_that_gets_no_work_ends_cleanly():
    done = subprocess.run([sys.executable, "-m", "rumq.ingest.worker"], input="", capture_output=True, text=True,
                          timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_workers_started_for_files_already_ingested_are_not_left_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("RUMQ_INGEST_WORKERS", "2")
    _files(tmp_path / "in", 4, 3000)
    first = ingest(tmp_path / "data", [str(tmp_path / "in")])
    assert first.written == 4 * 3000 - 1
    pool = staging.WorkerPool(2)  # what ingest starts for such an input
    pool.close()
    assert all(p.returncode is not None for p in pool.procs)
    before = _alive_children()  # other tests' servers, say
    again = ingest(tmp_path / "data", [str(tmp_path / "in")])  # workers start, then nothing to read
    assert again.read == 0 and {f.status for f in again.files} == {"already-ingested"}
    assert _alive_children() - before == set()


def test_ids_whose_hashes_collide_are_checked_exactly(tmp_path, monkeypatch):
    # Every event gets the same dedup key, as if all their id hashes collided:
    # only the real duplicate may be dropped.
    real_init = staging.Stager.__init__

    def init(self, config):
        real_init(self, config)
        self.sql = self.sql.replace("hash(event_id) AS _key", "42::UBIGINT AS _key")
        assert "42::UBIGINT AS _key" in self.sql

    monkeypatch.setattr(staging.Stager, "__init__", init)
    files = _files(tmp_path / "in", 3, 20)  # file 1 repeats file 0's first event
    r = ingest(tmp_path / "data", [str(p) for p in files])
    assert (r.read, r.written, r.duplicates, r.rejected) == (61, 59, 1, 1)
    con = catalog.connect(tmp_path / "data", views=False)
    assert con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchone() == (59, 59)
    con.close()


def test_an_ingest_whose_dedup_keys_are_missing_fails_and_commits_nothing(tmp_path, monkeypatch):
    real_close = staging.Stager.close

    def close(self):
        real_close(self)
        self.keys_path.unlink()

    monkeypatch.setattr(staging.Stager, "close", close)
    files = _files(tmp_path / "in", 2, 10)
    with pytest.raises(RuntimeError, match="dedup keys"):
        ingest(tmp_path / "data", [str(p) for p in files])
    assert Store(tmp_path / "data").load_state().files == []


@pytest.mark.parametrize("glue_schema", ["structs", "json-strings"])
def test_workers_read_firehose_parquet_as_this_process_does(tmp_path, monkeypatch, glue_schema):
    # Workers run without numpy (rumq.ingest.worker); the columnar reader must not need it.
    from rumq.generate import generate

    generate(tmp_path / "in", sessions=40, days=1, seed=5, fmt="firehose-parquet", glue_schema=glue_schema)
    monkeypatch.setattr(staging, "PARALLEL_MIN_BYTES", 0)  # however small, stage in workers
    got = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("RUMQ_INGEST_WORKERS", workers)
        r = ingest(tmp_path / f"data{workers}", [str(tmp_path / "in")])
        tags = {Path(f).stem.rsplit("-", 2)[-2] for f in Store(tmp_path / f"data{workers}").event_files()}
        con = catalog.connect(tmp_path / f"data{workers}", views=False)
        rows = con.execute("SELECT event_id, message, event_time FROM events ORDER BY event_id").fetchall()
        con.close()
        got[workers] = (r.read, r.written, r.rejected, rows)
        assert len(tags) == int(workers)
    assert got["1"][0] > 0 and got["1"] == got["2"]


def test_thousands_of_tiny_files_do_not_stall_the_workers(tmp_path, monkeypatch):
    # Each worker's first share is ~1 MiB of 300-byte files: more job lines and
    # more reports than a pipe holds, which must not block either side.
    import threading

    monkeypatch.setattr(staging, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv("RUMQ_INGEST_WORKERS", "2")
    line = dumps(event(at="2026-11-25T10:00:00", event_id="EVENTID"))
    (tmp_path / "in").mkdir()
    n = 1500
    for i in range(n):
        (tmp_path / "in" / f"{i:05d}.jsonl").write_text(line.replace("EVENTID", f"ev-{i:06d}") + "\n")
    out: list = []
    t = threading.Thread(target=lambda: out.append(ingest(tmp_path / "data", [str(tmp_path / "in")])), daemon=True)
    t.start()
    t.join(600)
    assert out, "the ingest stalled"
    assert (out[0].read, out[0].written) == (n, n)
