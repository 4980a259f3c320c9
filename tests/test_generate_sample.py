"""sample_data/: the builder reproduces the committed folder, and its
overlapping exports ingest with the promised duplicates and no rejects."""

from __future__ import annotations

import json
from pathlib import Path

from rumq.generate.sample import build_sample_data

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "real-samples.jsonl"


def test_builder_reproduces_the_committed_sample(tmp_path):
    summary = build_sample_data(tmp_path / "s", real_samples=FIXTURE)
    committed = ROOT / "sample_data"
    assert json.loads((tmp_path / "s" / "ground-truth.json").read_text()) == \
        json.loads((committed / "ground-truth.json").read_text())
    rel = sorted(p.relative_to(tmp_path / "s").as_posix() for p in (tmp_path / "s").rglob("*") if p.is_file())
    mine = sorted(p.relative_to(committed).as_posix() for p in committed.rglob("*") if p.is_file())
    assert [r for r in mine if r != "README.md"] == rel
    assert sum(p.stat().st_size for p in committed.rglob("*") if p.is_file()) <= 5_000_000
    assert summary["duplicates"] > 0


def test_overlapping_exports_ingest_with_duplicates(tmp_path):
    from rumq.ingest import ingest

    summary = build_sample_data(tmp_path / "s", sessions=60, days=2, seed=9, real_samples=FIXTURE)
    report = ingest(tmp_path / "data", [str(tmp_path / "s" / "exports")])
    assert report.rejected == 0
    assert report.duplicates == summary["duplicates"] > 0
    assert report.written == summary["events"] + 4  # + the real samples
