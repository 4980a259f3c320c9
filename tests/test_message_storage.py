"""``message`` stored without the event id's characters (format 4): every reader gets the original bytes back."""

from __future__ import annotations

import json

import duckdb
from rumdata import dumps, event

import rumq
from rumq import catalog, runner
from rumq.ingest import ingest
from rumq.maintenance import iter_rejects
from rumq.store import Store


def _lines(tmp_path) -> dict[str, str]:
    """Messages whose event id is cut out, or must not be, keyed by event id."""
    plain = event(at="2026-11-25T10:00:00", event_id="id-plain", page="/é/ü")
    # Non-ASCII before the id: character and byte offsets differ, so the message is kept whole.
    accented = dumps({**event(at="2026-11-25T10:00:01", event_id="id-café"), "event_type": "com.example.café"})
    # The id's text occurs first inside metadata: cut there, rebuilt there.
    early = event(at="2026-11-25T10:00:02", event_id="id-early", extra_metadata={"event_id": "id-early"})
    early = dumps({"event_timestamp": early["event_timestamp"], "metadata": early["metadata"],
                   **{k: v for k, v in early.items() if k not in ("event_timestamp", "metadata")}})
    # An id whose JSON text is escaped: not found as written, kept whole.
    quoted = dumps(event(at="2026-11-25T10:00:03", event_id='id-"q"'))
    # Spaces after the colon: not the compact form searched for, kept whole.
    spaced = json.dumps(event(at="2026-11-25T10:00:04", event_id="id-spaced"), ensure_ascii=False)
    # Non-ASCII in the id itself, after an ASCII prefix: cut (the tail starts after the id's bytes).
    wide = dumps(event(at="2026-11-25T10:00:06", event_id="id-ñandú-😀", page="/ü"))
    return {"id-plain": dumps(plain), "id-café": accented, "id-early": early, 'id-"q"': quoted,
            "id-spaced": spaced, "id-ñandú-😀": wide}


def _dataset(tmp_path):
    msgs = _lines(tmp_path)
    p = tmp_path / "in.jsonl"
    # The last line is rejected (a string timestamp): its raw text must reach the rejects file whole.
    bad = dumps({**event(at="2026-11-25T10:00:05", event_id="id-bad"), "event_timestamp": "soon"})
    p.write_text("".join(m + "\n" for m in msgs.values()) + bad + "\n", encoding="utf-8")
    data = tmp_path / "data"
    r = ingest(data, [str(p)])
    assert (r.written, r.rejected) == (6, 1)
    return data, msgs, bad


def test_the_id_is_cut_out_only_where_it_can_be_put_back_exactly(tmp_path):
    data, msgs, _ = _dataset(tmp_path)
    con = duckdb.connect()
    stored = {eid: (head, tail) for eid, head, tail in con.execute(
        "SELECT event_id, message_head, message_tail FROM read_parquet(?)",
        [[str(data / f["path"]) for f in Store(data).load_state().files]]).fetchall()}
    con.close()
    assert {eid for eid, (_h, tail) in stored.items() if tail is not None} == {"id-plain", "id-early", "id-ñandú-😀"}
    for eid in ("id-café", 'id-"q"', "id-spaced"):
        assert stored[eid] == (msgs[eid], None)
    head, tail = stored["id-plain"]
    at = msgs["id-plain"].index('"event_id":"') + len('"event_id":"')
    assert (head, tail) == (msgs["id-plain"][:at], msgs["id-plain"][at + len("id-plain"):])
    head, tail = stored["id-ñandú-😀"]
    at = msgs["id-ñandú-😀"].index('"event_id":"') + len('"event_id":"')
    assert (head, tail) == (msgs["id-ñandú-😀"][:at], msgs["id-ñandú-😀"][at + len("id-ñandú-😀"):])
    head, tail = stored["id-early"]  # the first occurrence, inside metadata, was the one cut
    assert len(head) == msgs["id-early"].index('"event_id":"id-early"') + len('"event_id":"')
    assert (head + tail).count("id-early") == 1


def test_every_reader_of_message_gets_the_original_bytes(tmp_path):
    data, msgs, bad = _dataset(tmp_path)
    con = catalog.connect(data, views=False)
    rows = con.execute("SELECT event_id, message, metadata, event_details FROM events").fetchall()
    con.close()
    assert {eid: m for eid, m, _md, _ed in rows} == msgs
    for eid, _m, md, ed in rows:  # metadata and event_details come from the rebuilt message
        original = json.loads(msgs[eid])
        assert json.loads(md) == original["metadata"] and json.loads(ed) == original["event_details"]
    # Logs Insights @message.
    df = runner.run_insights(data, "fields @message")
    assert sorted(df["@message"].to_list()) == sorted(msgs.values())
    # Polars, from the Parquet files.
    frame = rumq.open(data).events().select("event_id", "message").collect()
    assert dict(zip(frame["event_id"].to_list(), frame["message"].to_list(), strict=True)) == msgs
    # rumq rejects: the rejected record's text, whole.
    assert [r["raw"] for r in iter_rejects(data)] == [bad]
