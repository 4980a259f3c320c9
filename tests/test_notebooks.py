"""The notebooks run top to bottom in a fresh kernel, so they can never rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    # Committed without outputs: what is in git is the source, not a stale run.
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    # The kernel draws with matplotlib's inline backend, so plots become outputs.
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # the plots were drawn
    assert sum(1 for o in outputs if "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})) >= 4


def test_there_is_a_notebook():
    assert NOTEBOOKS
