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
