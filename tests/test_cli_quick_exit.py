"""The console script ends read-only commands without the interpreter's teardown
(``rumq.cli.main``): nothing written may be lost on the way out.

Each case runs the real entry point in a child process, as the ``rumq`` script does
(``main()`` reading ``sys.argv``), since in-process callers keep ``SystemExit``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _query_data import build_dataset

#: The console script: main() with no argv, so it reads sys.argv (what QUICK_EXIT needs).
SCRIPT = "import sys\n{before}\nfrom rumq.cli import main\nmain()\n"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return build_dataset(tmp_path_factory.mktemp("ds"))


def _rumq(*args: str, before: str = "", **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT.format(before=before), *args],
                          capture_output=True, text=True, timeout=120, **kw)


def test_output_larger_than_a_pipe_buffer_arrives_whole(data):
    # 200,000 rows (about 1.3 MB) through a pipe: os._exit without the flush would cut them.
    p = _rumq("--data", str(data), "sql", "SELECT range AS n FROM range(200000)", "--format", "csv")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "n" and len(lines) == 200_001 and lines[-1] == "199999"


def test_output_file_is_complete(data, tmp_path):
    out = tmp_path / "n.jsonl"
    p = _rumq("--data", str(data), "sql", "SELECT range AS n FROM range(50000)", "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert out.read_text().splitlines()[-1] == '{"n":49999}'


def test_error_exit_code_and_message_survive(data):
    p = _rumq("--data", str(data), "run", "pages/no_such_query")
    assert p.returncode == 2
    assert p.stderr.startswith("error: ") and "pages/no_such_query" in p.stderr
    assert p.stdout == ""


def test_atexit_handlers_still_run(data, tmp_path):
    flag = tmp_path / "ran"
    before = f"import atexit, pathlib\natexit.register(pathlib.Path({str(flag)!r}).write_text, 'yes')"
    p = _rumq("--data", str(data), "run", "sessions/summary", "--format", "json", before=before)
    assert p.returncode == 0, p.stderr
    assert flag.read_text() == "yes"


def test_a_running_thread_is_waited_for(data, tmp_path):
    # A thread that is not a daemon keeps the usual exit, which waits for it.
    flag = tmp_path / "thread"
    before = ("import pathlib, threading, time\n"
              f"threading.Thread(target=lambda: (time.sleep(1.0), pathlib.Path({str(flag)!r}).write_text('done'))"
              ").start()")
    p = _rumq("--data", str(data), "sql", "SELECT 1 AS one", "--format", "csv", before=before)
    assert p.returncode == 0, p.stderr
    assert flag.read_text() == "done"


def test_a_reader_that_goes_away_is_no_error(data):
    p = subprocess.Popen([sys.executable, "-c", SCRIPT.format(before=""), "--data", str(data), "sql",
                          "SELECT range AS n FROM range(300000)", "--format", "csv"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "n\n"
    p.stdout.close()  # like `| head -1`
    err = p.stderr.read()
    assert p.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err, err


def test_what_duckdb_spilled_goes_with_the_exit(data, tmp_path):
    # The connections are left open (rumq.catalog.release), so DuckDB does not remove its
    # temporary directory itself: the quick exit does (here one made to look spilled).
    before = ("import os, tempfile\n"
              "d = os.path.join(tempfile.gettempdir(), f'rumq-spill-{os.getpid()}')\n"
              "os.makedirs(d); open(os.path.join(d, 'duckdb_temp_block-1.block'), 'wb').write(b'x' * 4096)")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    p = _rumq("--data", str(data), "run", "errors/top_js", "--format", "csv", before=before, env=env)
    assert p.returncode == 0, p.stderr
    assert not [f for f in tmp_path.iterdir() if f.name.startswith("rumq-spill-")]


def test_release_leaves_only_read_only_connections_open(data, monkeypatch):
    from rumq import catalog

    monkeypatch.setattr(catalog, "_PROCESS_ENDS", True)
    read = catalog.connect(data)
    catalog.release(read)
    assert read.execute("SELECT count(*) FROM events").fetchone()[0] > 0  # still open: the exit frees it
    read.close()
    writes = catalog.connect(data, allow_writes=True)
    catalog.release(writes)
    with pytest.raises(Exception, match="(?i)closed"):
        writes.execute("SELECT 1")
    monkeypatch.setattr(catalog, "_PROCESS_ENDS", False)
    read = catalog.connect(data)
    catalog.release(read)
    with pytest.raises(Exception, match="(?i)closed"):
        read.execute("SELECT 1")
