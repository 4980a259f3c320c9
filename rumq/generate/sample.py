"""Build the committed ``sample_data/`` folder: a few days of generated
traffic laid out as real exports, with deliberate overlap, plus the real
public samples.

    python -m rumq.generate.sample sample_data [--real-samples tests/fixtures/real-samples.jsonl]

Layout::

    sample_data/
      README.md
      ground-truth.json        true numbers of the generated traffic
      exports/                 ingest this folder
        export-task/exportedlogs/...      CreateExportTask tree, days 1..N-1
        firehose/YYYY/MM/DD/HH/...        Firehose objects delivered from day N-1 on
        real-samples.jsonl                the public samples (other app monitors)

The export task covers the log streams up to the end of day N-1; the Firehose
objects cover everything delivered from the start of day N-1. Day N-1 is in
both, so an ingest of ``exports/`` reports duplicates and keeps one copy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Any

from rumq.errors import UsageError
from rumq.generate import DEFAULT_START, generate

SAMPLE_SEED = 2024
SAMPLE_SESSIONS = 600
SAMPLE_DAYS = 3


def _count_lines(path: Path) -> int:
    return gzip.decompress(path.read_bytes()).count(b"\n")


def _count_firehose(path: Path) -> int:
    data = path.read_bytes()
    n = 0
    while data:
        d = zlib.decompressobj(wbits=31)
        doc = json.loads(d.decompress(data))
        data = d.unused_data
        if doc.get("messageType") == "DATA_MESSAGE":
            n += len(doc["logEvents"])
    return n


def build_sample_data(
    dest: str | os.PathLike[str],
    *,
    sessions: int = SAMPLE_SESSIONS,
    days: int = SAMPLE_DAYS,
    start: dt.date = DEFAULT_START,
    seed: int = SAMPLE_SEED,
    real_samples: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Write the sample dataset to ``dest`` (missing or empty).

    Args:
        dest: target folder.
        sessions, days, start, seed: generation parameters (two applications,
            10 % cookieless visits).
        real_samples: a copy of the public real samples to include, if given.

    Returns:
        A summary: events, export/firehose event counts, the expected
        duplicates on ingest, and file sizes.
    """
    if days < 2:
        raise UsageError("sample data needs at least 2 days (one of them overlaps)")
    out = Path(dest)
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} is not empty", hint="remove it first")
    cutoff = (start + dt.timedelta(days=days - 2)).isoformat()  # day N-1, in both exports
    common = {"sessions": sessions, "days": days, "start": start, "seed": seed, "apps": 2,
              "cookieless_share": 0.1, "workers": 1}
    with tempfile.TemporaryDirectory(prefix="rumq-sample-") as tmp:
        t = Path(tmp)
        truth = generate(t / "cwl", fmt="cwl-export", truth_path=t / "cwl.json", **common)
        # One object per hour of traffic (Firehose itself flushes at least every
        # 15 minutes): four times fewer files for the demo to read.
        fh_truth = generate(t / "fh", fmt="firehose", truth_path=t / "fh.json", firehose_buffer_seconds=3600,
                            **common)
        if fh_truth.data["apps"] != truth.data["apps"]:  # pragma: no cover - a generator bug
            raise RuntimeError("export formats disagree for the same seed")
        exports = out / "exports"
        n_export = 0
        src = t / "cwl" / "exportedlogs"
        for f in sorted(src.rglob("*")):
            if not f.is_file():
                continue
            rel = f.relative_to(src)
            if f.name != "aws-logs-write-test" and rel.parts[1][:10] > cutoff:
                continue
            target = exports / "export-task" / "exportedlogs" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
            if f.suffix == ".gz":
                n_export += _count_lines(f)
        n_firehose = 0
        src = t / "fh" / "firehose"
        for f in sorted(src.rglob("*")):
            if not f.is_file():
                continue
            rel = f.relative_to(src)
            if "-".join(rel.parts[:3]) < cutoff:
                continue
            target = exports / "firehose" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
            n_firehose += _count_firehose(f)
    if real_samples is not None:
        shutil.copyfile(real_samples, exports / "real-samples.jsonl")
    truth_doc = dict(truth.data)
    truth_doc["params"] = dict(truth_doc["params"], format="cwl-export + firehose (overlapping)")
    (out / "ground-truth.json").write_text(json.dumps(truth_doc, indent=1) + "\n")
    events = truth.total["events"]
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {"events": events, "export_events": n_export, "firehose_events": n_firehose,
            "duplicates": n_export + n_firehose - events, "overlap_day": cutoff, "bytes": size,
            "sessions": truth.total["sessions"], "truth": truth_doc}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Build rumq's sample_data/ folder.")
    ap.add_argument("dest")
    ap.add_argument("--real-samples", default=None)
    args = ap.parse_args(argv)
    s = build_sample_data(args.dest, real_samples=args.real_samples)
    s.pop("truth")
    print(json.dumps(s, indent=1))


if __name__ == "__main__":
    main()
