"""Running test code without root's privileges (chmod means nothing to root)."""

from __future__ import annotations

import os
import sys


def unprivileged(fn) -> tuple[int, str]:
    """Run ``fn()`` in a forked child whose permissions count: as ``nobody`` when the tests run as
    root (for whom chmod 000 changes nothing), else as the user itself. Returns (exit code, stderr).

    A fork, not a new interpreter: the one running the tests may live where nobody can read it
    (so ``fn`` must need no module not imported yet).
    """
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            os.close(r)
            sys.stderr = open(w, "w", buffering=1)
            sys.stdout = open(os.devnull, "w")
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            try:
                fn()
                code = 0
            except SystemExit as e:
                code = int(e.code or 0)
        except BaseException as e:  # reported to the parent, which fails the test
            print(f"child failed: {e!r}", file=sys.stderr)
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(w)
    with open(r) as f:
        err = f.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err
