"""``rumq ingest``, ``info``, ``rejects``, ``compact``: thin shells over the library."""

from __future__ import annotations

import json
import sys

import click

from rumq.cli import data_dir_of
from rumq.cli.options import summary_format_options
from rumq.ingest.formats import FORMATS  # names only: --help loads no reader


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--input-format", "fmt", type=click.Choice(FORMATS), help="Force one export format instead of detecting it per file from the content.")
@click.option("--strict", is_flag=True, help="Exit with code 3 when any record is rejected (the good records are still ingested).")
@click.option("--log-group", help="CloudWatch Logs group to record for sources that do not name one.")
@click.option("--force", is_flag=True, help="Re-read files already ingested (their events then count as duplicates).")
@click.option("--no-wait", is_flag=True, help="Fail (exit 4) instead of waiting when another rumq process is writing to the dataset.")
@click.option("--endpoint-url", metavar="URL", help="S3-compatible endpoint for s3:// inputs (MinIO, Ceph, R2, a local server); default AWS_ENDPOINT_URL, else AWS.")
@click.option("--profile", metavar="NAME", help="AWS profile of the shared config files for s3:// inputs; default AWS_PROFILE, else the default chain.")
@summary_format_options(legacy_input=FORMATS)
@click.pass_context
def ingest(ctx: click.Context, paths, fmt, strict, log_group, force, no_wait, endpoint_url, profile, as_json) -> None:
    """Ingest RUM export files into the dataset.

    PATHS are files, directories (read recursively) and glob patterns, and
    s3://bucket/prefix/ URLs (every object under the prefix; the key may be a
    glob: s3://bucket/exports/*/2026-11-*/**). Objects stream from the store;
    one ingested before with the same ETag and size is skipped. Each
    file's format is detected from its content (gzip by its magic bytes):
    JSON lines of CloudWatch Logs messages, CloudWatch Logs export-task
    objects, Firehose objects, `aws logs` CLI output, GetAppMonitorData
    output, and PutRumEvents bodies.

    The summary goes to stderr; --format json (or --json) prints it as JSON
    on stdout instead. --input-format forces the export format (it was
    --format before; an export format given to --format still works, with
    a warning).

    Every record is written, counted as a duplicate (same event_id as one
    already in the dataset), or rejected with a reason (see `rumq rejects`).
    Re-ingesting a file with the same content is a no-op.

    \b
    Examples:
      rumq ingest s3-export/
      rumq --data ./rum ingest 'firehose/**/*' --strict
      rumq ingest s3://my-exports/rum/ --profile analytics
    """
    from rumq.cli.progress import Progress
    from rumq.ingest import ingest as run_ingest
    from rumq.objectstore import ClientOptions

    data_dir = data_dir_of(ctx)
    with Progress("ingesting") as progress:
        report = run_ingest(
            data_dir, list(paths), format=fmt, log_group=log_group, force=force,
            wait=not no_wait, on_notice=lambda m: click.echo(f"rumq: {m}", err=True),
            on_progress=progress.update, store_options=ClientOptions(endpoint_url=endpoint_url, profile=profile),
        )
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_summary(report)
    report.check(strict=strict)  # after the summary, so the user sees what was rejected


def _print_summary(report) -> None:
    """The summary on stderr; nothing when no file was read (the notices named the skipped ones)."""
    err = sys.stderr
    ingested = [f for f in report.files if f.status == "ingested"]
    # Files read that held no record (e.g. only Firehose control messages): not named by a notice.
    read_empty = [f for f in report.files if f.status == "empty" and f.format in FORMATS]
    failed = [f for f in report.files if f.status == "failed"]
    if not ingested and not read_empty:
        if failed:
            click.echo("\n".join(_failed_lines(failed)), file=err)
        return
    other = [f for f in report.files if f.status not in ("ingested", "failed") and f not in read_empty]
    lines = [
        f"files       {len(ingested) + len(read_empty)} read"
        + (f", {len(other)} skipped ({_count_status(other)})" if other else ""),
        f"records     {report.read:,}",
        f"written     {report.written:,}",
        f"duplicates  {report.duplicates:,}",
        f"rejected    {report.rejected:,}" + (f"  -> {report.rejects_file}" if report.rejects_file else ""),
    ]
    if report.by_type:
        lines.append("by type     " + ", ".join(f"{k} {v:,}" for k, v in report.by_type.items()))
    if report.reject_reasons:
        lines.append("rejects     " + "; ".join(f"{k} ({v:,})" for k, v in report.reject_reasons.items()))
    for f in read_empty:
        lines.append(f"note        {f.path}: no records in it")
    for f in ingested + read_empty:
        for p in f.problems:
            lines.append(f"warning     {p}")
        if f.control_messages:
            lines.append(f"note        {f.path}: skipped {f.control_messages} Firehose CONTROL_MESSAGE document(s)")
    lines += _failed_lines(failed)
    click.echo("\n".join(lines), file=err)


def _failed_lines(failed) -> list[str]:
    """One line per input that could not be read (its records, if any were read before the failure, are kept)."""
    return [f"failed      {f.path}: {f.reason}" for f in failed]


def _count_status(files) -> str:
    """``3 already ingested, 1 ground truth``: the files not read, by why."""
    counts: dict[str, int] = {}
    for f in files:
        kind = {"already-ingested": "already ingested", "empty": "empty"}.get(f.status) or (
            "ground truth" if f.format == "rumq-truth" else "not data")
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{v:,} {k}" for k, v in counts.items())


@click.command()
@summary_format_options
@click.pass_context
def info(ctx: click.Context, as_json: bool) -> None:
    """Summarize the dataset: events, dates, apps, types, sessions, coverage, size."""
    from rumq.maintenance import dataset_info

    d = dataset_info(data_dir_of(ctx))
    if as_json:
        click.echo(json.dumps(d, indent=2))
        return
    pct = lambda x: "-" if x is None else f"{x:.1%}"  # noqa: E731
    out = [
        f"dataset          {d['dataset']}",
        f"events           {d['events']:,}",
        f"time range       {d['first_event'] or '-'} .. {d['last_event'] or '-'} ({d['days']} day(s))",
        f"sessions         {d['sessions']:,} with cookies (as sessions/summary counts them), "
        f"{d['cookieless_sessions']:,} cookieless",
        f"users            {d['users']:,}",
        f"cookie coverage  {pct(d['cookie_coverage'])} of {d['page_views']:,} page views are in cookie sessions",
        f"known session    {pct(d['known_session_share'])} of events carry a session id "
        f"({d['session_ids']:,} distinct)",
        f"rejects          {d['rejects']:,}",
        f"duplicates       {d['duplicates_dropped']:,} dropped over {d['ingests']} ingest(s) of {d['inputs']} input file(s)",
        f"size on disk     {_human(d['bytes_on_disk'])} in {d['files']} file(s)",
        "applications",
    ]
    for a in d["applications"]:
        name = f" ({a['application_name']})" if a["application_name"] else ""
        out.append(f"  {a['application_id']}{name}  {a['events']:,}")
    out.append("event types")
    for t, c in d["event_types"].items():
        out.append(f"  {t:<50} {c:>12,}")
    if d["reconstructed_events"]:
        out.append(f"reconstructed    {d['reconstructed_events']:,} events read from Parquet/ORC columns: their "
                   "message is canonical JSON of what was read, not the original text")
    if d["source_fields_missing"]:
        from rumq.ingest.columnar import missing_fields_notices

        out.append("missing source fields")
        out += [f"  {line}" for line in missing_fields_notices(d["source_fields_missing"])]
    click.echo("\n".join(out))


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@click.command()
@click.option("--list", "list_", is_flag=True, help="Print the rejected records themselves (JSON lines on stdout).")
@click.option("--limit", type=click.IntRange(min=1), help="With --list: at most this many records.")
@summary_format_options
@click.pass_context
def rejects(ctx: click.Context, list_: bool, limit: int | None, as_json: bool) -> None:
    """Summarize (or list) the records ingest rejected, with their reasons.

    Each rejected record keeps its source file, line, format, the reason and
    the raw text, so it can be fixed and ingested again.
    """
    from rumq.maintenance import iter_rejects, rejects_summary

    data_dir = data_dir_of(ctx)
    if list_:
        for i, rec in enumerate(iter_rejects(data_dir)):
            if limit is not None and i >= limit:
                break
            click.echo(json.dumps(rec, ensure_ascii=False))
        return
    s = rejects_summary(data_dir)
    if as_json:
        click.echo(json.dumps(s, indent=2))
        return
    out = [f"rejected records  {s['rejects']:,}"]
    if s["by_reason"]:
        out.append("by reason")
        out += [f"  {v:>10,}  {k}" for k, v in s["by_reason"].items()]
        out.append("by source file")
        out += [f"  {v:>10,}  {k}" for k, v in s["by_source"].items()]
    click.echo("\n".join(out))


@click.command()
@click.option("--min-files", default=2, show_default=True, type=click.IntRange(min=2), help="Also rewrite a day when one event type is spread over at least this many files.")
@click.option("--allow-growth", is_flag=True, help="Rewrite a day even when its new files are larger than the old ones.")
@click.option("--no-wait", is_flag=True, help="Fail (exit 4) instead of waiting for another writer.")
@click.pass_context
def compact(ctx: click.Context, min_files: int, allow_growth: bool, no_wait: bool) -> None:
    """Rewrite each day as one Parquet file per event type (atomic, like ingest).

    Every row group then holds a single event type, so queries on one type
    (page views, vitals, errors) skip the others. Days already in that layout
    are left alone, and so are days whose new files would be larger than
    their old ones (unless --allow-growth). Run it after large ingests.
    """
    from rumq.maintenance import compact as run_compact

    r = run_compact(data_dir_of(ctx), min_files=min_files, allow_growth=allow_growth, wait=not no_wait,
                    on_notice=lambda m: click.echo(f"rumq: {m}", err=True))
    if r["kept"]:
        click.echo(f"rumq: {len(r['kept'])} day(s) kept as they were: one file per event type would be larger "
                   "(--allow-growth rewrites them anyway)", err=True)
    click.echo(f"compacted {r['partitions']} partition(s): {r['files_before']} -> {r['files_after']} file(s)", err=True)


@click.command()
@click.option("--no-wait", is_flag=True, help="Fail (exit 4) instead of waiting for another writer.")
@click.pass_context
def migrate(ctx: click.Context, no_wait: bool) -> None:
    """Upgrade a dataset written by an older rumq to the current format, in place.

    Every event file is rewritten with the current columns and the change is
    committed at once (atomic, like ingest): nothing is re-ingested, and a
    crash leaves the dataset as it was. A current dataset is left alone.
    """
    from rumq.maintenance import migrate as run_migrate

    r = run_migrate(data_dir_of(ctx), wait=not no_wait, on_notice=lambda m: click.echo(f"rumq: {m}", err=True))
    if r["files"] == 0:
        click.echo(f"rumq: the dataset is at format version {r['to_version']} already; nothing to do", err=True)
    else:
        click.echo(f"migrated {r['files']} file(s) from format version {r['from_version']} "
                   f"to {r['to_version']}", err=True)
