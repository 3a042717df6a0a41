"""``protlm inspect FILE... [--json]``: what is in a sequence or alignment file."""

from __future__ import annotations

import json

import click

_FORMATS = ("auto", "fasta", "a3m", "stockholm", "clustal")


def _human(report) -> str:
    lines = [report.path]
    fmt = report.format + (f" ({report.n_alignments} alignments)" if report.n_alignments > 1 else "")
    lines.append(f"  format        {fmt}")
    lines.append(f"  sequences     {report.n_sequences:,}")
    if report.n_columns is None:
        lines.append(f"  columns       unaligned (lengths {report.min_length:,}-{report.max_length:,}, {report.n_residues:,} residues)")
    else:
        ins = "insertions present" if report.has_insertions else "no insertions"
        lines.append(f"  columns       {report.n_columns:,} match columns; {ins}")
    if report.n_species is None:
        lines.append("  species       unknown (no key found; pass --species-key, e.g. 'field:|:2')")
    else:
        missing = f", {report.n_no_species:,} without a key" if report.n_no_species else ""
        lines.append(f"  species       {report.n_species:,} (key {report.species_key}{missing})")
    if report.gap_fraction is not None:
        lines.append(f"  gap fraction  {report.gap_fraction:.3f}")
    if report.header:
        lines.append(f"  header        {report.header}")
    notes = report.notes()
    if notes:
        lines.append("  notes         " + "; ".join(notes))
    return "\n".join(lines)


@click.command(name="inspect")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file and line (keys: path, format, n_sequences, n_columns, n_species, ...).")
@click.option(
    "--species-key",
    default="auto",
    show_default=True,
    metavar="KEY",
    help="auto (UniRef TaxID=, UniProt OX=, HK-RR '|Species|Pair_' headers, MalG/MalK 'ACC_ACC_k_TaxID' ids; "
    "UniProt OS= names if nothing else), taxid, ox, os, field:SEP:N (e.g. 'field:|:2'), regex:PATTERN.",
)
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="auto", show_default=True, help="Input format.")
def inspect(files, as_json, species_key, fmt):
    """Print format, sequence count, alignment width, species and oddities of each FILE.

    FILE may be plain, gzip or bz2 (detected from its first bytes), or '-' for stdin.
    Empty/duplicate ids, lowercase-only rows, '*' stops and CRLF line endings are
    reported, not rejected.  A malformed file stops with one line naming the file,
    record and line (exit status 2).
    """
    from protlm.io._open import display_name
    from protlm.io.inspection import inspect_file
    from protlm.io.species import species_key as make_key

    make_key(species_key)  # validate before reading anything
    for i, path in enumerate(files):
        source = path
        if path == "-":
            import io
            import sys

            source = io.BytesIO(sys.stdin.buffer.read())
            source.name = display_name("-")
        report = inspect_file(source, species_key=species_key, format=fmt)
        if as_json:
            click.echo(json.dumps(report.to_dict()))
        else:
            if i:
                click.echo()
            click.echo(_human(report))
