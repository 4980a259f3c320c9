"""A notebook's interrupt stops a running rumq query at once, as Ctrl-C does in the CLI.

A real Jupyter kernel runs ``Dataset.sql`` over a join DuckDB alone does not
stop for 20 s and more after SIGINT (``rumq.interrupt``); the kernel manager's
interrupt is that SIGINT.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from _query_data import build_dataset

jupyter_client = pytest.importorskip("jupyter_client.manager")

#: The inequality join of tests/test_cli_user_mistakes.py's Ctrl-C case.
SLOW = "select sum(a.range + b.range) from range(10000000) a, range(10000000) b where a.range < b.range"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return build_dataset(tmp_path_factory.mktemp("ds"))


@pytest.mark.slow
@pytest.mark.parametrize("call", [f"ds.sql({SLOW!r})", f"ds.sql({SLOW!r}, limit=5)"])
def test_kernel_interrupt_stops_a_dataset_query(data, call):
    km, kc = jupyter_client.start_new_kernel(kernel_name="python3")
    try:
        kc.execute_interactive(f"from rumq import Dataset\nds = Dataset({str(data)!r})", timeout=60)
        msg_id = kc.execute(call, stop_on_error=False)  # the next cell is not aborted
        time.sleep(2.0)  # into the join
        km.interrupt_kernel()
        start = time.monotonic()
        while True:
            reply = kc.get_shell_msg(timeout=30)  # raises queue.Empty: it ran on
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        took = time.monotonic() - start
        content = reply["content"]
        assert (content["status"], content.get("ename")) == ("error", "KeyboardInterrupt"), content
        assert took < 15, took
        # The kernel and the Dataset still work afterwards.
        out = kc.execute_interactive("print(ds.sql('select 41 + 1 AS n')['n'][0])", timeout=60)
        assert out["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_wakeup_fd_in_use_is_left_alone():
    # An asyncio loop's signal handlers read the wake-up fd: rumq must not take it over.
    import signal
    import socket
    import threading

    from rumq.interrupt import ctrl_c_interrupts

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are the main thread's")
    # Python's own handler, as in a console script or a running cell (SparkContext installs its
    # own handler when a Spark test ran before this one).
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno())
    try:
        with ctrl_c_interrupts():
            inside = signal.set_wakeup_fd(writer.fileno())
        assert inside == writer.fileno()
        assert signal.set_wakeup_fd(writer.fileno()) == writer.fileno()
        # With none in use it does take it, and gives it back.
        signal.set_wakeup_fd(-1)
        with ctrl_c_interrupts():
            taken = signal.set_wakeup_fd(-1)
            signal.set_wakeup_fd(taken)
        assert taken not in (-1, writer.fileno())
        assert signal.set_wakeup_fd(-1) == -1
    finally:
        signal.set_wakeup_fd(previous)
        signal.signal(signal.SIGINT, handler)
        reader.close()
        writer.close()
