"""``rumq demo``: the first-run tour over the bundled sample data."""

from __future__ import annotations

import click


@click.command()
@click.option("--into", "into", default="rumq-demo-data", show_default=True, type=click.Path(file_okay=False),
              help="Directory for the demo dataset (replaced when a previous demo made it; never anything else).")
@click.option("--sample", type=click.Path(exists=True), help="Exports to ingest instead of the bundled sample_data/exports.")
def demo(into: str, sample: str | None) -> None:
    """Ingest the bundled sample data into a fresh dataset and print a tour.

    The tour shows sessions and cookie coverage, top journeys, the pages where
    sessions end, error-session rates and the slowest pages by LCP, each table
    under the `rumq run` command that prints exactly that table. It takes a
    few seconds.
    """
    from rumq.demo import format_tour, run_demo

    tour = run_demo(into, sample, on_notice=lambda m: click.echo(f"rumq: {m}", err=True))
    click.echo(format_tour(tour), nl=False)
