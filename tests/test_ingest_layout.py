"""Ingest: the JSON-lines fast path, files and row groups, and odd values that must not fail an ingest."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from rumdata import dumps, event, write_jsonl

from rumq import catalog
from rumq.ingest import ingest, readers
from rumq.maintenance import iter_rejects
from rumq.store import Store


def _written_lines(data) -> dict[int, str]:
    """source_line -> event_id of every committed event."""
    out = {}
    for f in Store(data).event_files():
        t = pq.read_table(f, columns=["source_line", "event_id"])
        out.update(zip(t["source_line"].to_pylist(), t["event_id"].to_pylist(), strict=True))
    return out


def test_odd_lines_between_plain_blocks_keep_their_line_numbers(tmp_path, monkeypatch):
    # Small blocks so that plain blocks (Arrow fast path) and blocks with odd
    # lines (careful path) alternate within one file.
    from rumq.ingest import sources

    monkeypatch.setattr(readers, "FAST_BLOCK_BYTES", 2048)
    monkeypatch.setattr(sources, "CHUNK", 1024)
    lines: list[bytes] = []
    good: dict[int, str] = {}  # line number -> event_id expected in the dataset
    rejected: dict[int, str] = {}  # line number -> start of the expected reason
    for i in range(200):
        e = event(at=f"2026-11-25T10:{i % 60:02d}:00", event_id=f"id-{i}")
        n = len(lines) + 1
        if i % 37 == 5:
            lines.append(b"")  # blank: not a record
            lines.append(b"   ")  # whitespace only: not a record either
            n += 2
        if i % 41 == 7:
            lines.append(dumps(e).encode() + b"\r")  # CRLF: the \r is not part of the message
        elif i % 43 == 9:
            lines.append(b"  " + dumps(e).encode())  # indented: still a JSON object
        elif i % 47 == 11:
            lines.append(dumps(e).encode()[:-1] + b'\xff"}')  # invalid UTF-8
            rejected[n] = "invalid UTF-8"
            continue
        elif i % 53 == 13:
            lines.append(b"[1, 2]")
            rejected[n] = "not a JSON object"
            continue
        else:
            lines.append(dumps(e).encode())
        good[n] = f"id-{i}"
    p = tmp_path / "mixed.jsonl"
    p.write_bytes(b"\n".join(lines) + b"\n")
    kinds = {type(b).__name__ for b in readers.read(p, "jsonl", readers.ReadStats())}
    assert kinds == {"LineBlock", "RawBatch"}  # both paths ran
    r = ingest(tmp_path / "data", [str(p)])
    assert (r.read, r.written, r.rejected) == (len(good) + len(rejected), len(good), len(rejected))
    assert _written_lines(tmp_path / "data") == good
    got = {x["line"]: x["reason"] for x in iter_rejects(tmp_path / "data")}
    assert sorted(got) == sorted(rejected)
    for n, start in rejected.items():
        assert got[n].startswith(start), (n, got[n])


def _records(path) -> list[tuple[int, str, str | None]]:
    """(line, text, reject reason) of every record the reader hands on, in order."""
    out = []
    for b in readers.read(path, "jsonl", readers.ReadStats()):
        t = b.to_arrow(0, "f", "jsonl")
        out += zip(t["line"].to_pylist(), t["raw"].to_pylist(), t["pre_reject"].to_pylist(), strict=True)
    return out


def test_block_and_chunk_sizes_change_no_record(tmp_path, monkeypatch):
    # The reader's one reused buffer: lines split across chunks and blocks, an
    # enormous line (dropped to its end), a last line without a newline and a
    # damaged gzip end read the same whatever the sizes.
    import gzip

    from rumq.ingest import sources

    monkeypatch.setattr(readers, "MAX_RECORD_BYTES", 1200)  # an event here is about 730
    lines = [dumps(event(at=f"2026-11-25T10:{i % 60:02d}:00", event_id=f"id-{i}")).encode() for i in range(120)]
    lines[30] = b'{"huge": "' + b"x" * 6000 + b'"}'  # over 4 x MAX_RECORD_BYTES
    lines[31] = b'{"long": "' + b"y" * 1300 + b'"}'  # over MAX_RECORD_BYTES: rejected by the careful path
    plain = b"\n".join(lines)  # no newline after the last line
    gz = gzip.compress(plain + b"\n")
    members = b"".join(gzip.compress(part) for part in (plain[:5000], b"", plain[5000:] + b"\n")) + b"\0" * 3
    files = {"plain.jsonl": plain, "cut.jsonl.gz": gz[: len(gz) * 3 // 4], "members.jsonl.gz": members}
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    results = {}
    for chunk, block, inflate in ((1 << 20, 64 << 20, 1 << 20), (97, 701, 50), (1000, 4096, 333),
                                  (4096, 1 << 20, 1 << 20), (2, 4096, 7)):
        monkeypatch.setattr(sources, "CHUNK", chunk)
        monkeypatch.setattr(sources, "INFLATE_BYTES", inflate)
        monkeypatch.setattr(readers, "FAST_BLOCK_BYTES", block)
        got = {name: _records(tmp_path / name) for name in files}
        for recs in got.values():
            # Seen whole (within one block) or not, the enormous line is rejected
            # for its length, with one of two reasons: the rest must not differ.
            n, text, reason = recs[30]
            assert text.startswith('{"huge": "xxx') and reason.startswith("record longer than"), (chunk, block)
            recs[30] = (n, "", "too long")
        results[chunk, block] = got
    first = results[1 << 20, 64 << 20]
    for key, other in results.items():
        assert other == first, key
    recs = first["plain.jsonl"]
    assert first["members.jsonl.gz"] == recs
    assert [n for n, _, _ in recs] == list(range(1, 121))
    assert recs[31][2].startswith("record longer than 1200 bytes")
    assert recs[119][1].encode() == lines[119] and recs[119][2] is None
    cut = first["cut.jsonl.gz"]
    assert cut[-1][2] is not None and "gzip" in cut[-1][2]  # the damaged end, named
    assert [r[1].encode() for r in cut[:-1] if r[2] is None] == [ln for ln in lines[: len(cut) - 1]
                                                               if ln not in (lines[30], lines[31])]


def test_a_gzip_member_may_end_anywhere_in_a_chunk(tmp_path, monkeypatch):
    # A member ending one byte before a chunk's end left a lone 0x1f, which was
    # taken for trailing data after the last member.
    import gzip

    from rumq.ingest import sources

    body = b"".join(b'{"n": %d}\n' % i for i in range(300))
    path = tmp_path / "members.gz"
    path.write_bytes(b"".join(gzip.compress(body[i:i + 700]) for i in range(0, len(body), 700)))
    for chunk in range(2, 80):
        monkeypatch.setattr(sources, "CHUNK", chunk)
        assert b"".join(sources.iter_bytes(path)) == body, chunk


def test_messages_are_stored_byte_for_byte_on_the_fast_path(tmp_path):
    evs = [event(at=f"2026-11-25T10:00:{i:02d}", page=f"/é/{i}", event_id=f"e{i}") for i in range(50)]
    p = write_jsonl(tmp_path / "a.jsonl", evs, gz=True)
    ingest(tmp_path / "data", [str(p)])
    msgs = {}
    for f in Store(tmp_path / "data").event_files():
        for r in pq.read_table(f, columns=["event_id", "message_head", "message_tail"]).to_pylist():
            # Stored without the id's characters (rumq.schema.MESSAGE_STORAGE), put back here.
            head, tail = r["message_head"], r["message_tail"]
            assert tail is not None and f'"event_id":"{r["event_id"]}"' not in head + tail
            msgs[r["event_id"]] = head + r["event_id"] + tail
    assert msgs == {e["event_id"]: dumps(e) for e in evs}


def test_an_ingest_writes_one_file_per_day_with_large_row_groups(tmp_path, monkeypatch):
    from rumq.ingest import staging

    monkeypatch.setattr(staging, "GROUP_ROWS", 40)
    evs = [event(t, at=f"{day}T10:{i // 60:02d}:{i % 60:02d}")
           for day in ("2026-11-24", "2026-11-25") for i in range(50) for t in ("page_view", "http")]
    r = ingest(tmp_path / "data", [str(write_jsonl(tmp_path / "e.jsonl", evs))])
    assert r.written == 200
    files = Store(tmp_path / "data").load_state().files
    assert sorted((f["date"], f["rows"], f["event_name"]) for f in files) == [
        ("2026-11-24", 100, None), ("2026-11-25", 100, None)]
    for f in files:
        pf = pq.ParquetFile(tmp_path / "data" / f["path"])
        assert [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)] == [40, 40, 20]


def test_one_batch_across_midnight_with_rejects_goes_to_each_day_and_the_rejects(tmp_path):
    # The last millisecond of a UTC day, the first of the next, and rejects between them, in one
    # batch: each good event lands in its own day (normalize hands the day over as a number).
    good = [event(at="2026-11-24T23:59:59.999", event_id="late"), event(at="2026-11-25T00:00:00", event_id="early"),
            event(at="1970-01-02T00:00:00", event_id="old")]
    lines = [dumps(good[0]), "{not json", dumps(good[1]), dumps({**good[2], "event_id": 5}), dumps(good[2])]
    src = tmp_path / "e.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = ingest(tmp_path / "data", [str(src)])
    assert (r.written, r.rejected) == (2, 3)  # 1970 is outside 2000..2100: rejected, not a partition
    files = Store(tmp_path / "data").load_state().files
    by_day = {f["date"]: pq.read_table(tmp_path / "data" / f["path"], columns=["event_id"]).column(0).to_pylist()
              for f in files}
    assert by_day == {"2026-11-24": ["late"], "2026-11-25": ["early"]}
    assert sorted(x["line"] for x in iter_rejects(tmp_path / "data")) == [2, 4, 5]


def test_sub_documents_must_be_objects(tmp_path):
    base = event(at="2026-11-25T10:00:00")
    lines = [
        json.dumps({**base, "event_id": "a", "metadata": 5}),
        json.dumps({**base, "event_id": "b", "user_details": ["x"]}),
        json.dumps({**base, "event_id": "c", "event_details": True}),
        json.dumps({**base, "event_id": "d", "event_details": {}, "metadata": {}}),  # empty objects are fine
        json.dumps({**base, "event_id": "e", "metadata": None}),  # null: as if absent
    ]
    p = tmp_path / "subdocs.jsonl"
    p.write_text("\n".join(lines) + "\n")
    r = ingest(tmp_path / "data", [str(p)])
    assert (r.written, r.rejected) == (2, 3)
    assert {x["line"]: x["reason"] for x in iter_rejects(tmp_path / "data")} == {
        1: "metadata must be a JSON object, got number",
        2: "user_details must be a JSON object, got array",
        3: "event_details must be a JSON object, got boolean",
    }


def test_numbers_out_of_a_columns_range_are_stored_as_null_not_fatal(tmp_path):
    evs = [
        event(at="2026-11-25T10:00:00", interaction=10**12, event_id="pv"),
        event("js_error", at="2026-11-25T10:00:01", event_id="err",
              details={"type": "E", "message": "m", "lineno": 1e30, "colno": -5}),
        event("http", at="2026-11-25T10:00:02", event_id="http",
              details={"request": {"method": "GET", "url": "/"}, "response": {"status": 1e15}}),
        {**event(at="2026-11-25T10:00:03", event_id="ls"), "log_stream": {"seconds": 99999999999999, "nanos": 0}},
    ]
    r = ingest(tmp_path / "data", [str(write_jsonl(tmp_path / "big.jsonl", evs))])
    assert (r.written, r.rejected) == (4, 0)
    (f,) = Store(tmp_path / "data").event_files()
    rows = {x["event_id"]: x for x in pq.read_table(
        f, columns=["event_id", "interaction", "error_lineno", "error_colno", "http_status", "log_stream"]).to_pylist()}
    con = catalog.connect(tmp_path / "data", views=False)
    for eid, message in con.execute("SELECT event_id, message FROM events").fetchall():
        rows[eid]["message"] = message
    con.close()
    assert rows["pv"]["interaction"] is None
    assert (rows["err"]["error_lineno"], rows["err"]["error_colno"]) == (None, -5)
    assert rows["http"]["http_status"] is None
    assert rows["ls"]["log_stream"] is None  # {seconds} far out of range: no hour bucket
    assert rows["pv"]["message"] == dumps(evs[0])  # the original value is still in the message


def test_an_ingest_asks_for_no_manual_step(tmp_path):
    # The files an ingest writes are the layout compact would keep (it never
    # grows a day; bench/incremental.py measures queries on both layouts), and
    # small files are merged by the ingest itself: no hint to run compact.
    from click.testing import CliRunner

    from rumq.cli import cli

    p = write_jsonl(tmp_path / "e.jsonl", [event(at=f"2026-11-25T10:00:0{i}") for i in range(3)])
    run = CliRunner().invoke(cli, ["--data", str(tmp_path / "a"), "ingest", str(p)])
    assert run.exit_code == 0 and "rumq compact" not in run.stderr and "hint" not in run.stderr
    assert run.stdout == ""  # stdout carries data only


def test_an_absurd_export_timestamp_leaves_log_time_null(tmp_path):
    good, odd = event(at="2026-11-25T10:00:00", event_id="good"), event(at="2026-11-25T10:00:01", event_id="odd")
    p = tmp_path / "task" / "stream" / "000000"
    p.parent.mkdir(parents=True)
    p.write_text(f"2026-11-25T10:00:00.000Z {dumps(good)}\n9999999999999999 {dumps(odd)}\n")
    r = ingest(tmp_path / "data", [str(p)])
    assert (r.written, r.rejected) == (2, 0)
    (f,) = Store(tmp_path / "data").event_files()
    t = {x["event_id"]: x["log_time"] for x in pq.read_table(f, columns=["event_id", "log_time"]).to_pylist()}
    assert t["odd"] is None and str(t["good"]) == "2026-11-25 10:00:00"


def test_absurd_numeric_times_in_export_documents_do_not_fail_the_ingest(tmp_path):
    from rumdata import firehose_doc, write_firehose, write_logs_cli, write_putrumevents

    def absurd(x):  # every timestamp-like number -> 10**30
        if isinstance(x, dict):
            return {k: 10**30 if k in ("timestamp", "ingestionTime") and isinstance(v, int) else absurd(v)
                    for k, v in x.items()}
        return [absurd(v) for v in x] if isinstance(x, list) else x

    e = event(at="2026-11-25T10:00:00")
    (tmp_path / "in").mkdir()
    lc = write_logs_cli(tmp_path / "in" / "cli.json", [e])
    lc.write_text(json.dumps(absurd(json.loads(lc.read_text()))))
    fh = write_firehose(tmp_path / "in" / "fh", [absurd(firehose_doc([e]))], control=False)
    pr = write_putrumevents(tmp_path / "in" / "put.json", [e])
    pr.write_text(json.dumps(absurd(json.loads(pr.read_text()))))
    r = ingest(tmp_path / "data", [str(lc), str(fh), str(pr)])
    # CLI and Firehose: the export's own time is dropped, the event is kept (a
    # duplicate the second time); PutRumEvents: the event's time itself is absurd.
    assert (r.read, r.written, r.duplicates, r.rejected) == (3, 1, 1, 1)
    (reason,) = [x["reason"] for x in iter_rejects(tmp_path / "data")]
    assert reason.startswith("event_timestamp 1.0000000000000001e33 is outside 2000-01-01..2100-01-01")


def test_a_known_envelope_with_parts_of_the_wrong_type_is_one_reject(tmp_path):
    from rumdata import firehose_doc, write_firehose, write_query_results

    e = event(at="2026-11-25T10:00:00")
    (tmp_path / "in").mkdir()
    qr = write_query_results(tmp_path / "in" / "qr.json", [e, event(at="2026-11-25T10:00:01")])
    doc = json.loads(qr.read_text())
    doc["results"][1] = [{"field": {"not": "hashable"}, "value": 1}]  # a field name that is an object
    qr.write_text(json.dumps(doc))
    bad_fh = firehose_doc([e])
    bad_fh["logGroup"] = ["not", "a", "string"]
    fh = write_firehose(tmp_path / "in" / "fh", [bad_fh], control=False)
    r = ingest(tmp_path / "data", [str(qr), str(fh)])
    _check = {f.path.rsplit("/", 1)[-1]: (f.read, f.written, f.duplicates, f.rejected) for f in r.files}
    # The query-results document is rejected whole (nothing of it is half-read);
    # the Firehose record is kept without the log group it cannot have.
    assert _check == {"qr.json": (1, 0, 0, 1), "fh": (1, 1, 0, 0)}
    (rej,) = iter_rejects(tmp_path / "data")
    assert rej["reason"].startswith("export document of a known shape with parts of the wrong type: unhashable type")
    assert json.loads(rej["raw"]) == doc


def test_log_group_option_fills_only_records_whose_export_names_none(tmp_path):
    from rumdata import firehose_doc, write_firehose

    plain = write_jsonl(tmp_path / "in" / "plain.jsonl", [event(at="2026-11-25T10:00:00", event_id="plain")])
    fh = write_firehose(tmp_path / "in" / "fh", [firehose_doc([event(at="2026-11-25T10:00:01", event_id="fh")],
                                                              group="/aws/vendedlogs/own")], control=False)
    ingest(tmp_path / "data", [str(plain), str(fh)], log_group="/aws/vendedlogs/given")
    groups = {}
    for f in Store(tmp_path / "data").event_files():
        t = pq.read_table(f, columns=["event_id", "log_group"])
        groups.update(zip(t["event_id"].to_pylist(), t["log_group"].to_pylist(), strict=True))
    assert groups == {"plain": "/aws/vendedlogs/given", "fh": "/aws/vendedlogs/own"}
