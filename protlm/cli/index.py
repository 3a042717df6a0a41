"""``protlm index``: build a reusable index of a reference proteome for ``protlm sequence --reference``."""

from __future__ import annotations

import logging
import time

import click

from protlm.cli._options import overwrite_option
log = logging.getLogger(__name__)


@click.command("index")
@click.argument("reference", metavar="REF", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Index file to write (default: protlm's cache folder, $PROTLM_CACHE_DIR/index, else "
                   "$XDG_CACHE_HOME/protlm/index or ~/.cache/protlm/index; never beside REF).")
@click.option("--known", "known_sets", multiple=True,
              help="Also build (and store beside the index) the seed table of this known set, e.g. KCYM; repeatable.")
@click.option("--decoys", type=click.Choice(["reverse", "shuffle", "none"]), default="reverse", show_default=True,
              help="Decoy sequences stored in the index for target-decoy FDR (protlm sequence --reference); "
                   "none leaves them out (no identification).")
@overwrite_option("Replace an existing index file.")
def index_command(reference, output, known_sets, decoys, overwrite):
    """Index a reference FASTA (plain or gzipped UniProt, UniRef or proteome).

    The index is used by `protlm sequence --reference REF` (found automatically
    when written to the default place, or given as `--reference INDEX`).  A
    cached index is rebuilt when REF changes.
    """
    from pathlib import Path

    from protlm.cli._progress import progress_callback
    from protlm.errors import OutputError, OutputExistsError
    from protlm.sequencing.index import build_index, default_cache_paths
    from protlm.sequencing.reads import parse_known

    known_sets = [parse_known(k) for k in known_sets]

    targets = [Path(output)] if output else default_cache_paths(reference)
    if output and Path(output).exists() and not overwrite:
        raise OutputExistsError(f"{output}: exists; pass --overwrite to replace it")
    started = time.monotonic()
    with progress_callback(desc="indexing", unit="seq") as cb:
        index = build_index(reference, decoys=None if decoys == "none" else decoys, callback=cb)
    built = time.monotonic() - started
    errors = []
    for target in targets:
        try:
            index.save(target)
        except OSError as exc:
            errors.append(f"{target} ({exc.strerror or exc})")
            continue
        click.echo(f"{index!r}: built in {built:.1f} s, written to {target}")
        for known in known_sets:
            from protlm.sequencing.seeds import seed_table

            seeds = seed_table(index, known)
            click.echo(f"seed table for {known}: {len(seeds.keys)} triples in {seeds.seconds:.1f} s, "
                       f"written to {target}.seeds-{known}.npz")
            if index.decoy_residues is not None:
                seed_table(index.decoys(), known)
        return
    raise OutputError("cannot write the index to " + "; ".join(errors))
