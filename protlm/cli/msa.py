"""``protlm msa``: build a query's MSA (A3M with species) from a UniProt/UniRef FASTA database."""

from __future__ import annotations

import logging

import click

from protlm.cli._options import overwrite_option
from protlm.search.msa import DEFAULTS, ENGINES

log = logging.getLogger(__name__)

_D = DEFAULTS


@click.command(name="msa")
@click.argument("query", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--db", "database", required=True, type=click.Path(exists=True, dir_okay=False),
              help="UniProtKB or UniRef FASTA (plain, gzip or bz2), read as a stream.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=False),
              help="A3M to write: the query first, then one row per hit, insertions in lowercase.")
@click.option("--record", type=click.IntRange(min=1), default=None,
              help="Which record of QUERY to search for (1-based); needed when QUERY holds several.")
@click.option("--engine", type=click.Choice(ENGINES), default=_D["engine"], show_default=True,
              help="pyhmmer: HMMER's phmmer/jackhmmer (database held in memory, about 1 byte per residue); "
                   "mmseqs2: 'mmseqs easy-search' (the mmseqs binary must be installed), for larger databases.")
@click.option("--iterations", type=click.IntRange(min=1), default=_D["iterations"], show_default=True,
              help="Search iterations (1 = phmmer; more = jackhmmer / MMseqs2 profile iterations).")
@click.option("-E", "--evalue", type=click.FloatRange(min=0, min_open=True), default=_D["evalue"], show_default=True,
              help="E-value threshold to report a hit and include it in the next iteration's profile.")
@click.option("--max-hits", type=click.IntRange(min=1), default=_D["max_hits"],
              help="Keep at most this many hits (best E-values first, after the filters). Default: all.")
@click.option("--min-coverage", type=click.FloatRange(0, 1), default=_D["min_coverage"], show_default=True,
              help="Drop hits that cover less than this fraction of the query's residues.")
@click.option("--min-identity", type=click.FloatRange(0, 1), default=_D["min_identity"], show_default=True,
              help="Drop hits less identical to the query than this (over the columns they cover).")
@click.option("--max-identity", type=click.FloatRange(0, 1), default=_D["max_identity"], show_default=True,
              help="Drop hits more identical to the query than this (e.g. 0.95 drops near-copies).")
@click.option("--sensitivity", type=click.FloatRange(1, 7.5), default=_D["sensitivity"], show_default=True,
              help="MMseqs2 -s (ignored by pyhmmer).")
@click.option("--threads", type=click.IntRange(min=1), default=_D["threads"], show_default=True,
              help="pyhmmer: database slices searched in parallel; MMseqs2 --threads.")
@click.option("--table", type=click.Path(dir_okay=False), default=None,
              help="Also write one line per hit (TSV: accession, taxid, organism, E-value, identity, coverage, ...).")
@overwrite_option("Replace OUTPUT (and --table) if they exist.")
def msa_command(query, database, output, record, engine, iterations, evalue, max_hits, min_coverage, min_identity,
                max_identity, sensitivity, threads, table, overwrite):
    """Search DB for homologs of the QUERY sequence and write their MSA (A3M) to OUTPUT.

    Each hit's header is 'ID/START-END evalue= bits= identity= coverage='
    followed by the text of its database header, which keeps UniProt's OX=
    and OS= or UniRef's TaxID=, so 'protlm pair --species-key auto' (or 'os')
    finds the species of every row without a separate taxonomy file.  Hits
    whose database header has no taxonomy are kept (and counted in the log).
    """
    from protlm.cli._progress import progress_callback
    from protlm.io.atomic import check_output_file
    from protlm.search import build_msa, read_query
    from protlm.search.database import database_kind

    # every input and output is checked before the search starts
    for path in (output, table):
        if path is not None:
            check_output_file(path, overwrite=overwrite)
    if engine == "mmseqs2":
        from protlm.search.mmseqs import find_mmseqs

        find_mmseqs()
    q = read_query(query, record=record)
    database_kind(database)
    with progress_callback(desc=f"msa ({engine})", unit="step") as cb:
        result = build_msa(q, database, engine=engine, iterations=iterations, evalue=evalue, max_hits=max_hits,
                           min_coverage=min_coverage, min_identity=min_identity, max_identity=max_identity,
                           threads=threads, sensitivity=sensitivity, callback=cb)
    result.write(output, table=table)
    log.info("%r", result)
    c = result.counts
    click.echo(f"{len(result)} hits ({c['n_no_taxonomy']} without a taxonomy id) for {q.id} -> {output}"
               f"  ({c['n_found']} found, {c['n_low_coverage'] + c['n_identity'] + c['n_over_max_hits']} filtered out; "
               f"{result.seconds:.1f} s)")
