"""`rumq migrate`: a dataset of an older format version upgraded in place, atomically."""

from __future__ import annotations

import json

import duckdb
from click.testing import CliRunner
from rumdata import NIL, event, session_events, write_jsonl

from rumq.cli import cli
from rumq.errors import ExitCode
from rumq.ingest import ingest
from rumq.maintenance import migrate
from rumq.schema import FILE_COLUMNS, MESSAGE_EXPR
from rumq.store import STATE_VERSION, StagedFile, Store


def _v3_dataset(tmp_path):
    events = (session_events("s-1", "u-1", ["/", "/a"])
              + session_events("s-2", "u-2", ["/b"], start="2026-11-26T09:00:00")
              + [event(at="2026-11-26T10:00:00", session="s-3", user=NIL)])
    data = tmp_path / "data"
    ingest(data, [str(write_jsonl(tmp_path / "in.jsonl", events))])
    return data


def _downgrade(data, version: int) -> None:
    """Make ``data`` what rumq wrote at format ``version`` (2 to 5): the same events in that version's columns.

    Versions 4 and 5 stored the message as message_body (the id's characters left out) and
    message_id_at (where); version 3 stored the whole message; version 2 also lacked
    message_reconstructed.
    """
    store = Store(data)
    con = duckdb.connect()
    for f in store.load_state().files:
        path = str(store.root / f["path"])
        cols = []
        for c in FILE_COLUMNS:
            if c == "message_head" and version >= 4:
                cols.append("CASE WHEN message_tail IS NULL THEN message_head ELSE message_head || message_tail END "
                            "AS message_body")
                cols.append("CAST(CASE WHEN message_tail IS NOT NULL THEN length(message_head) END AS INTEGER) "
                            "AS message_id_at")
            elif c == "message_head":
                cols.append(f"{MESSAGE_EXPR} AS message")
            elif c == "message_tail" or (c == "message_reconstructed" and version == 2):
                continue
            else:
                cols.append(c)
        con.execute(f"COPY (SELECT {', '.join(cols)} FROM read_parquet('{path}')) TO '{path}.old' (FORMAT parquet)")
        (store.root / (f["path"] + ".old")).replace(store.root / f["path"])
    state = json.loads(store.state_path.read_text())
    state["version"] = version
    for f in state["files"]:  # as that rumq wrote them: the sizes of these files
        f["bytes"] = (store.root / f["path"]).stat().st_size
    store.state_path.write_text(json.dumps(state))


def _downgrade_to_v2(data) -> None:
    _downgrade(data, 2)


def _run(data, *args):
    return CliRunner().invoke(cli, ["--data", str(data), *args])


def _summary(data):
    res = _run(data, "run", "sessions/summary", "-p", "include_cookieless=true", "--format", "json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_an_old_dataset_is_refused_with_the_migrate_hint_then_migrated_in_place(tmp_path):
    data = _v3_dataset(tmp_path)
    before = _summary(data)
    assert before[0]["sessions"] == 3  # s-1, s-2 and the cookieless page load
    _downgrade_to_v2(data)
    res = _run(data, "info")
    assert res.exit_code == ExitCode.FAILURE
    assert f"has version 2; this rumq reads version {STATE_VERSION}" in res.stderr and "rumq migrate" in res.stderr

    res = _run(data, "migrate")
    assert res.exit_code == 0, res.output
    files = Store(data).load_state().files
    assert f"migrated {len(files)} file(s) from format version 2 to {STATE_VERSION}" in res.stderr
    assert json.loads(Store(data).state_path.read_text())["version"] == STATE_VERSION
    # Same answers as before the downgrade, and every event says its message is the original.
    assert _summary(data) == before
    res = _run(data, "sql", "SELECT count(*) AS n, count(*) FILTER (WHERE message_reconstructed) AS r "
                            "FROM events", "--format", "json")
    # 3 + 2 events of the two cookie sessions (session_start and page views), 1 cookieless.
    assert json.loads(res.stdout) == [{"n": 6, "r": 0}]
    # Only the new files are on disk: the old ones were deleted after the commit.
    on_disk = {str(p.relative_to(data)) for p in (data / "events").rglob("*.parquet")}
    assert on_disk == {f["path"] for f in files}


def test_migrating_a_current_dataset_changes_nothing(tmp_path):
    data = _v3_dataset(tmp_path)
    state = Store(data).state_path.read_bytes()
    res = _run(data, "migrate")
    assert res.exit_code == 0
    assert f"format version {STATE_VERSION} already; nothing to do" in res.stderr
    assert Store(data).state_path.read_bytes() == state


def test_a_migration_that_died_before_its_commit_leaves_the_old_dataset_and_can_run_again(tmp_path):
    data = _v3_dataset(tmp_path)
    _downgrade_to_v2(data)
    store = Store(data)
    old_state = store.state_path.read_bytes()
    old_files = {f["path"] for f in store.load_state(allow_old=True).files}
    # What a migration killed between placing its files and committing leaves behind: a staged
    # file and a placed file that no state lists.
    staging = store.new_staging("20261202T000000Z-mdead")
    (staging / "m000000.parquet").write_bytes(b"half")
    some_day = store.load_state(allow_old=True).files[0]["date"]
    orphan = staging / "orphan.parquet"
    orphan.write_bytes(b"not listed")
    # Named as migrate names its files (an old file's name and the migration's id): recovery removes only such.
    store.place([StagedFile(orphan, some_day, "part-old-20261202T000000Z-mdead.parquet", 1, None)],
                "20261202T000000Z-mdead")
    # Readers still see version 2 (and are told to migrate); nothing was lost.
    assert _run(data, "info").exit_code == ExitCode.FAILURE
    assert store.state_path.read_bytes() == old_state

    r = migrate(data)
    assert r["from_version"] == 2 and r["files"] == len(old_files)
    on_disk = {str(p.relative_to(data)) for p in (data / "events").rglob("*.parquet")}
    assert on_disk == {f["path"] for f in Store(data).load_state().files}
    assert not (data / "_rumq" / "staging" / "20261202T000000Z-mdead").exists()
    assert _summary(data)[0]["sessions"] == 3


def test_a_version_1_dataset_is_not_migrated_but_told_to_re_ingest(tmp_path):
    data = _v3_dataset(tmp_path)
    state = json.loads(Store(data).state_path.read_text())
    state["version"] = 1
    Store(data).state_path.write_text(json.dumps(state))
    res = _run(data, "migrate")
    assert res.exit_code == ExitCode.FAILURE
    assert "has version 1" in res.stderr and "re-ingest" in res.stderr and "Traceback" not in res.stderr


def _messages(data) -> dict[str, str]:
    res = _run(data, "sql", "SELECT event_id, message FROM events", "--format", "json")
    assert res.exit_code == 0, res.output
    return {r["event_id"]: r["message"] for r in json.loads(res.stdout)}


def test_a_version_3_dataset_is_migrated_to_messages_without_the_event_id(tmp_path):
    data = _v3_dataset(tmp_path)
    messages, before = _messages(data), _summary(data)
    _downgrade(data, 3)
    res = _run(data, "info")
    assert res.exit_code == ExitCode.FAILURE and "has version 3" in res.stderr and "rumq migrate" in res.stderr
    r = migrate(data)
    assert (r["from_version"], r["to_version"]) == (3, STATE_VERSION)
    # The same messages, byte for byte, now stored with the id's characters left out.
    assert _messages(data) == messages and _summary(data) == before
    con = duckdb.connect()
    for f in Store(data).load_state().files:
        for eid, head, tail in con.execute("SELECT event_id, message_head, message_tail FROM read_parquet(?)",
                                           [str(data / f["path"])]).fetchall():
            assert tail is not None and eid not in head + tail
            assert head + eid + tail == messages[eid]
    con.close()


def _downgrade_to_v4(data) -> None:
    """Make ``data`` what rumq wrote at format version 4: the input manifest inside state.json."""
    store = Store(data)
    inputs = store.load_state().inputs
    _downgrade(data, 4)
    state = json.loads(store.state_path.read_text())
    (data / state.pop("inputs_file")).unlink()
    state.update(version=4, inputs=inputs)
    store.state_path.write_text(json.dumps(state))


def test_version_4_moves_its_input_manifest_out_and_splits_its_messages(tmp_path):
    data = _v3_dataset(tmp_path)
    before, messages = _summary(data), _messages(data)
    inputs = Store(data).load_state().inputs
    files = sorted(p.relative_to(data) for p in (data / "events").rglob("*.parquet"))
    _downgrade_to_v4(data)
    res = _run(data, "run", "sessions/summary")
    assert res.exit_code == ExitCode.FAILURE
    assert "has version 4" in res.stderr and "kept the input manifest inside state.json" in res.stderr
    res = _run(data, "migrate")
    assert res.exit_code == 0, res.output
    state = json.loads(Store(data).state_path.read_text())
    assert state["version"] == STATE_VERSION and "inputs" not in state
    assert state["inputs_file"].startswith("_rumq/inputs/") and (data / state["inputs_file"]).is_file()
    assert Store(data).load_state().inputs == inputs
    after = sorted(p.relative_to(data) for p in (data / "events").rglob("*.parquet"))
    assert len(after) == len(files) and not set(after) & set(files)  # every event file rewritten (version 6)
    assert _summary(data) == before and _messages(data) == messages
    # a second ingest of the same file still knows it
    res = _run(data, "ingest", str(tmp_path / "in.jsonl"))
    assert res.exit_code == 0 and "already ingested" in res.stderr


def test_a_version_5_dataset_gets_its_messages_as_head_and_tail(tmp_path):
    data = _v3_dataset(tmp_path)
    messages, before = _messages(data), _summary(data)
    _downgrade(data, 5)
    res = _run(data, "info")
    assert res.exit_code == ExitCode.FAILURE and "has version 5" in res.stderr and "message_head" in res.stderr
    r = migrate(data)
    assert (r["from_version"], r["to_version"]) == (5, STATE_VERSION) and r["files"] > 0
    assert _messages(data) == messages and _summary(data) == before
    con = duckdb.connect()
    for f in Store(data).load_state().files:
        for eid, head, tail in con.execute("SELECT event_id, message_head, message_tail FROM read_parquet(?)",
                                           [str(data / f["path"])]).fetchall():
            assert head + eid + tail == messages[eid] and head.endswith('"event_id":"')
    con.close()
