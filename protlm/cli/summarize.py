"""``protlm summarize``: one table and one plot across many runs."""

from __future__ import annotations

import logging

import click

from protlm.cli._options import overwrite_option
log = logging.getLogger(__name__)


@click.command("summarize")
@click.argument("kind", type=click.Choice(["pairing", "sequencing"]))
@click.argument("reports", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Summary table (TSV) to write.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Also draw a bar chart (PNG).")
@click.option("--name", "names", multiple=True, help="Row names, one per report (default: each report's folder name).")
@overwrite_option("Replace the table and plot if they exist.")
def summarize(kind, reports, output, plot, names, overwrite):
    """Collect the report.json files of `protlm pair` or `protlm sequence` runs into one table.

    \b
    Example:
      protlm summarize pairing results/pairing/*/report.json -o summary.tsv --plot summary.png
    """
    from pathlib import Path

    from protlm.errors import OutputExistsError
    from protlm.io.atomic import atomic_write
    from protlm.summary import summarize_pairing, summarize_sequencing

    if names and len(names) != len(reports):
        raise click.UsageError(f"--name given {len(names)} times for {len(reports)} reports")
    for path in (output, plot):
        if path and Path(path).exists() and not overwrite:
            raise OutputExistsError(f"{path}: exists; pass --overwrite to replace it")
    fn = summarize_pairing if kind == "pairing" else summarize_sequencing
    table = fn(reports, names=list(names) or None)
    with atomic_write(output) as fh:
        table.to_csv(fh, sep="\t", index=False, float_format="%.4g")
    log.info("wrote %s (%d rows)", output, len(table))
    if plot:
        from protlm.plots import plot_summary

        plot_summary(table, kind=kind, path=plot)
        log.info("wrote %s", plot)
