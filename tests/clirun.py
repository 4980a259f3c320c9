"""Run the real ``rumq`` entry point in-process, as a user's shell would, for the CLI tests."""

from __future__ import annotations

from click.testing import CliRunner

from rumq.cli import main


def invoke(args: list[str], *, env: dict[str, str | None] | None = None,
           input: str | None = None) -> tuple[int, str, str]:
    """``rumq ARGS`` with the error mapping included: (exit code, stdout, stderr).

    ``RUMQ_QUERIES`` is emptied so a developer's own query folders never leak
    in; ``env`` adds or overrides variables (None unsets one).
    """
    with CliRunner().isolation(input=input, env={"RUMQ_QUERIES": "", **(env or {})}) as (out, err, _):
        try:
            main(args)
            code = 0
        except SystemExit as e:
            code = e.code
    return code, out.getvalue().decode(), err.getvalue().decode()


# Runs the CLI in a child process and prints, on stderr's last line, the watched modules it loaded.
_CHILD = (
    "import sys\n"
    "from rumq.cli import main\n"
    "watched = sys.argv.pop(1).split(',')\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit as e:\n"
    "    code = e.code\n"
    "else:\n"
    "    code = 0\n"
    "print('LOADED:' + ','.join(m for m in watched if m in sys.modules), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def loaded_modules(args: list[str], watched: tuple[str, ...], *,
                   env: dict[str, str] | None = None) -> tuple[str, str, set[str]]:
    """``rumq ARGS`` in a fresh process: (stdout, stderr before the report, which of ``watched`` it imported).

    The command must succeed; ``env`` replaces the environment when given.
    """
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _CHILD, ",".join(watched), *args], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, out.stderr
    *rest, last = out.stderr.strip().splitlines()
    assert last.startswith("LOADED:")
    return out.stdout, "\n".join(rest), {m for m in last.removeprefix("LOADED:").split(",") if m}
