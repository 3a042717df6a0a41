"""``protlm inspect FILE... [--json]``: what is in a sequence or alignment file."""

from __future__ import annotations

import json

import click

_FORMATS = ("auto", "fasta", "a3m", "stockholm", "clustal")


def _human(report, taxonomy=None) -> str:
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
    if taxonomy is not None:
        lines.append(f"  taxonomy      {taxonomy['n_from_taxonomy']:,} of {taxonomy['n_rows']:,} rows from the taxonomy, "
                     f"{taxonomy['n_from_header']:,} from their headers, {taxonomy['n_without_species']:,} without a species")
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
@click.option("--taxonomy", multiple=True, type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Species from a taxonomy source (repeatable): UniRef/UniProt FASTA or XML, UniProt idmapping, "
                   "or id<TAB>taxid; reports how many rows it covers. Rows it does not name fall back to --species-key.")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="auto", show_default=True, help="Input format.")
def inspect(files, as_json, species_key, taxonomy, fmt):
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
    sources = []
    for path in files:
        source = path
        if path == "-":
            import io
            import sys

            source = io.BytesIO(sys.stdin.buffer.read())
            source.name = display_name("-")
        sources.append(source)
    tax = rows = None
    if taxonomy:
        from protlm.io.taxonomy import read_taxonomy

        rows = [_rows(s, fmt) for s in sources]
        tax = read_taxonomy(list(taxonomy), ids=[i for ids, _ in rows for i in ids])  # one pass for all the files
    for i, source in enumerate(sources):
        key = species_key if tax is None else tax.species_key(fallback=species_key)
        report = inspect_file(source, species_key=key, format=fmt)
        coverage = None if tax is None else tax.coverage(*rows[i], fallback=species_key)
        if as_json:
            out = report.to_dict()
            if coverage is not None:
                out["taxonomy"] = {**coverage, **tax.summary()}
            click.echo(json.dumps(out))
        else:
            if i:
                click.echo()
            click.echo(_human(report, coverage))


def _rows(source, fmt) -> tuple:
    """``(ids, descriptions)`` of every record of a file (rewound afterwards for inspect_file)."""
    from protlm.io.fasta import iter_fasta
    from protlm.io.general import detect_format, read_msa

    if hasattr(source, "seek"):
        source.seek(0)
    kind = detect_format(source) if fmt == "auto" else fmt
    if hasattr(source, "seek"):
        source.seek(0)
    if kind in ("fasta", "a3m"):
        records = list(iter_fasta(source))
        ids, descs = [r.id for r in records], [r.description for r in records]
    else:
        msa = read_msa(source, format=kind)
        ids, descs = list(msa.ids), list(msa.descriptions)
    if hasattr(source, "seek"):
        source.seek(0)
    return ids, descs
