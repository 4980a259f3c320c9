"""A writer never deletes what rumq did not write: a directory without a state file that holds
files is refused, recovery removes only files of rumq's own names, a damaged state is an error."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from clirun import invoke
from rumdata import event, write_jsonl

from rumq.errors import DatasetError, ExitCode, UsageError
from rumq.ingest import ingest
from rumq.store import StagedFile, Store


def _files(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_a_directory_without_state_that_holds_files_is_refused_and_left_as_it_was(tmp_path):
    proj = tmp_path / "proj"
    (proj / "events").mkdir(parents=True)
    (proj / "rejects").mkdir()
    (proj / "events" / "notes.txt").write_text("notes\n")
    (proj / "rejects" / "todo.txt").write_text("keep\n")
    p = write_jsonl(tmp_path / "five.jsonl", [event(at=f"2026-11-25T10:00:0{i}") for i in range(5)])
    code, out, err = invoke(["--data", str(proj), "ingest", str(p)])
    assert code == ExitCode.FAILURE and out == ""
    assert f"error: {proj} is not a rumq dataset (no _rumq/state.json) but holds files: events/notes.txt, " \
           "rejects/todo.txt" in err
    assert "point --data at an empty or new directory" in err and "Traceback" not in err
    assert "cleaned up" not in err
    assert (proj / "events" / "notes.txt").read_text() == "notes\n"
    assert (proj / "rejects" / "todo.txt").read_text() == "keep\n"
    assert _files(proj) == {"events/notes.txt", "rejects/todo.txt"}  # not even a lock file added


def test_a_new_dataset_directory_may_hold_its_rumq_toml_before_the_first_ingest(tmp_path):
    # rumq.toml inside the dataset directory is a documented place for its config.
    data = tmp_path / "data"
    data.mkdir()
    (data / "rumq.toml").write_text("[pages]\nexclude = ['^/admin/']\n")
    p = write_jsonl(tmp_path / "a.jsonl", [event(at="2026-11-25T10:00:00", page="/admin/x"),
                                           event(at="2026-11-25T10:01:00", page="/home")])
    assert ingest(data, [str(p)]).written == 2
    code, out, err = invoke(["--data", str(data), "sql", "SELECT count(*) AS n FROM page_views", "--format", "csv"])
    assert (code, out.split()) == (0, ["n", "1"]), err  # the config is read: /admin/x left out
    assert (data / "rumq.toml").exists()


def test_a_dataset_that_lost_its_state_file_is_refused_not_emptied(tmp_path):
    data = tmp_path / "data"
    ingest(data, [str(write_jsonl(tmp_path / "a.jsonl", [event(at="2026-11-25T10:00:00")]))])
    ingest(data, [str(write_jsonl(tmp_path / "b.jsonl", [event(at="2026-11-26T10:00:00")]))])
    (data / "_rumq" / "state.json").unlink()
    before = _files(data)
    assert any(f.startswith("events/") for f in before)
    with pytest.raises(DatasetError, match="is not a rumq dataset .* but holds files: "):
        ingest(data, [str(write_jsonl(tmp_path / "c.jsonl", [event(at="2026-11-27T10:00:00")]))])
    assert _files(data) == before


@pytest.mark.parametrize("text", ["null", "[]", "0", "false", '""', ""])
def test_a_state_file_that_is_not_a_json_object_is_damaged(tmp_path, text):
    data = tmp_path / "data"
    ingest(data, [str(write_jsonl(tmp_path / "a.jsonl", [event()]))])
    (data / "_rumq" / "state.json").write_text(text)
    before = _files(data)
    for args in (["info"], ["ingest", str(write_jsonl(tmp_path / "b.jsonl", [event()]))]):
        code, out, err = invoke(["--data", str(data), *args])
        assert code == ExitCode.FAILURE, (args, err)
        assert f"error: cannot read {data / '_rumq' / 'state.json'}: " in err
        assert "hint: the dataset's state file is damaged" in err and "Traceback" not in err
    assert _files(data) == before


def test_recovery_removes_only_files_of_rumqs_own_names(tmp_path):
    data = tmp_path / "data"
    ingest(data, [str(write_jsonl(tmp_path / "a.jsonl", [event(at="2026-11-25T10:00:00")]))])
    day = data / "events" / "event_date=2026-11-25"
    mine = [day / "part-20261125T100000Z-0123abcd-w0-0.parquet", data / "rejects" / "20261125T100000Z-0123abcd.jsonl",
            data / "_rumq" / "inputs" / "inputs-0123abcd.json.gz"]
    theirs = [day / "notes.txt", data / "events" / "README", data / "rejects" / "fixed.jsonl",
              data / "rejects" / "todo.txt", data / "_rumq" / "inputs" / "mine.json", data / "events" / "x.parquet"]
    for f in mine + theirs:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("x")
    store = Store(data)
    with store.lock():
        removed = store.recover()
    assert sorted(removed) == sorted(str(f) for f in mine)
    assert all(f.exists() for f in theirs)


def _place_without_commit(data) -> str:
    """What a writer killed between placing its first files and its commit leaves behind."""
    store = Store(data)
    with store.lock():
        store.recover()
        src = store.new_staging("20261125T100000Z-deadbeef") / "x.parquet"
        pq.write_table(pa.table({"a": [1]}), src)
        (entry,) = store.place([StagedFile(src, "2026-11-25", "part-20261125T100000Z-deadbeef-w0-0.parquet", 1)],
                               "20261125T100000Z-deadbeef")
    return entry["path"]


def test_a_crash_during_the_first_ingest_is_recovered_by_the_next(tmp_path):
    # Before its first file is placed, a dataset gets its (empty) state: a crash then leaves
    # orphans of a dataset, never a directory without a state file holding rumq's files.
    data = tmp_path / "data"
    orphan = _place_without_commit(data)
    assert (data / "_rumq" / "state.json").is_file()
    assert Store(data).load_state().files == []
    code, _, err = invoke(["--data", str(data), "info"])
    assert code == 0 and "Traceback" not in err  # an empty dataset: readers see none of the orphan
    notices: list[str] = []
    r = ingest(data, [str(write_jsonl(tmp_path / "a.jsonl", [event()]))], on_notice=notices.append)
    assert str(data / orphan) in r.recovered and not (data / orphan).exists()
    assert r.written == 1
    assert not any((data / "_rumq" / "staging").iterdir())


def test_a_copy_of_a_dataset_without_its_state_keeps_every_file(tmp_path):
    data = tmp_path / "data"
    ingest(data, [str(write_jsonl(tmp_path / "a.jsonl", [event(at=f"2026-11-2{d}T10:00:00") for d in range(5)]))])
    copy = tmp_path / "copy"
    shutil.copytree(data, copy)
    (copy / "_rumq" / "state.json").unlink()
    before = _files(copy)
    code, _, err = invoke(["--data", str(copy), "ingest", str(write_jsonl(tmp_path / "b.jsonl", [event()]))])
    assert code == ExitCode.FAILURE and "is not a rumq dataset" in err
    assert _files(copy) == before


def test_an_empty_data_option_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "mine.parquet").write_text("x")
    p = write_jsonl(tmp_path / "in" / "a.jsonl", [event()])
    for args in (["ingest", str(p)], ["info"]):
        code, out, err = invoke(["--data", "", *args])
        assert code == ExitCode.USAGE, err
        assert "--data" in err and "empty" in err and "Traceback" not in err
    with pytest.raises(UsageError, match="empty path"):  # the library too: "" is not "."
        ingest("", [str(p)])
    assert sorted(_files(tmp_path)) == ["events/mine.parquet", "in/a.jsonl"]
