"""``rumq generate``: write realistic RUM traffic in an export format, with ground truth."""

from __future__ import annotations

import datetime as dt

import click

_FORMATS = ("jsonl", "cwl-export", "firehose", "logs-cli", "putrumevents", "firehose-parquet")
_GLUE_SCHEMAS = ("structs", "json-strings")  # rumq.generate.glue.GLUE_SCHEMAS (not imported: pyarrow-free --help)


@click.command("generate")
@click.option("--sessions", type=click.IntRange(min=1), help="Exact number of sessions to produce.")
@click.option("--events", type=click.IntRange(min=1),
              help="Instead of --sessions: about this many events (sessions estimated by a small pilot run).")
@click.option("--days", type=click.IntRange(min=1), default=7, show_default=True, help="Days of traffic.")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2024-03-04", show_default=True,
              help="First day (UTC).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same output).")
@click.option("--apps", type=click.IntRange(1, 4), default=2, show_default=True,
              help="Number of applications (webshop, helpcenter, webshop-eu, partner-portal).")
@click.option("--cookieless-share", type=click.FloatRange(0, 1), default=0.1, show_default=True,
              help="Share of visits without cookies (nil user id, one session per page load).")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="jsonl", show_default=True,
              help="Export format and file layout to write.")
@click.option("--glue-schema", type=click.Choice(_GLUE_SCHEMAS), default="structs", show_default=True,
              help="With --format firehose-parquet: the Glue table schema of the conversion (nested documents "
                   "as structs with lowercased keys, or as JSON strings).")
@click.option("--gzip/--no-gzip", default=False, show_default=True, help="Compress jsonl output.")
@click.option("--compresslevel", type=click.IntRange(1, 9), default=6, show_default=True,
              help="gzip level of compressed outputs (1 = fastest).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes to use [default: 1 for small runs, else 2].")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output directory (must be missing or empty).")
@click.option("--page-groups", is_flag=True,
              help="Page views of the web shop carry page groups (pageTags); the truth counts them per group.")
@click.option("--domains", metavar="HOST,HOST",
              help="Two host names: the web shop's checkout pages on the second, its other pages on the first "
                   "(sessions cross subdomains); the truth counts them.")
@click.option("--sample-rate", "sample_rates", multiple=True, metavar="RATE[@DAY]",
              help="Write only the sessions an app monitor sampling at RATE (0 < RATE <= 1) would record, from "
                   "DAY (YYYY-MM-DD; default: the first day) on; repeat for a rate change. The truth keeps the "
                   "full traffic and gives the rates to declare in rumq.toml.")
@click.option("--truth", "truth_path", type=click.Path(dir_okay=False),
              help="Ground-truth JSON path [default: <out>.truth.json, next to the output].")
def generate(sessions: int | None, events: int | None, days: int, start: dt.datetime, seed: int, apps: int,
             cookieless_share: float, fmt: str, glue_schema: str, gzip: bool, compresslevel: int, workers: int | None,
             out_dir: str, page_groups: bool, domains: str | None, sample_rates: tuple[str, ...],
             truth_path: str | None) -> None:
    """Generate realistic CloudWatch RUM traffic as a real export would hold it.

    Simulates visitors of a web shop and a help center (sessions, page views
    with interaction depth, navigation timing, web vitals, resources, HTTP
    calls with injected failures, JS errors, custom events; cookie and
    cookieless clients; the 30-minute session timeout and the 200-event cap),
    and writes the CloudWatch Logs messages in the chosen export layout.
    The true numbers (sessions, users, entries and exits per page,
    transitions, error sessions, funnel) go to a ground-truth JSON file.

    \b
    Examples:
      rumq generate --sessions 5000 --out traffic
      rumq generate --events 2000000 --gzip --compresslevel 1 --out bench-data
      rumq generate --sessions 2000 --format firehose --out fh
      rumq generate --sessions 2000 --format firehose-parquet --glue-schema json-strings --out fhp
      rumq generate --sessions 2000 --domains www.example.com,shop.example.com --out two-hosts
      rumq generate --sessions 4000 --sample-rate 0.25 --sample-rate 0.5@2024-03-07 --out sampled
    """
    from rumq.errors import UsageError
    from rumq.generate import estimate_sessions
    from rumq.generate import generate as run
    from rumq.generate.sampling import parse_rates

    if (sessions is None) == (events is None):
        raise UsageError("give exactly one of --sessions and --events")
    if sessions is None:
        sessions = estimate_sessions(events, cookieless_share=cookieless_share, apps=apps, seed=seed)
    truth = run(out_dir, sessions=sessions, days=days, start=start.date(), seed=seed, apps=apps,
                cookieless_share=cookieless_share, fmt=fmt, gzip=gzip, compresslevel=compresslevel,
                workers=workers, truth_path=truth_path, glue_schema=glue_schema, page_groups=page_groups,
                domains=domains,
                sample_rates=parse_rates(sample_rates, start.date()) if sample_rates else None)
    t = truth.total
    click.echo(
        f"wrote {t['events']:,} events, {t['sessions']['total']:,} sessions "
        f"({t['sessions']['cookieless']:,} cookieless), {t['users']:,} users as {fmt} to {out_dir}",
        err=True,
    )
    if "sampling" in truth.data:
        kept = sum(d["recorded"]["sessions"] + d["recorded"]["cookieless_sessions"]
                   for a in truth.data["sampling"]["apps"].values() for d in a["days"])
        click.echo(f"sampled: wrote the events of {kept:,} sessions with a page view (the counts above and the "
                   "truth are the full traffic; the truth's sampling part gives the rates to declare)", err=True)
    click.echo(f"ground truth: {truth.path}", err=True)
