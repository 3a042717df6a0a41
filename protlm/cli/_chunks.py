"""``protlm sequence --chunk I/N``: the identification search of one chunk of the reads (the scatter).

The gather is ``protlm sequence --gather DIR ...`` (in :mod:`protlm.cli.sequence`), which takes
the chunks' scores instead of searching; see :mod:`protlm.sequencing.chunks`.
"""

from __future__ import annotations

import logging
import time

import click

log = logging.getLogger(__name__)

#: What a chunk run writes into its folder.
CHUNK_OUTPUTS = ("scores.tsv", "report.json")


def score_chunk(reads_path, outdir, *, chunk: str, known: str, efficiency: float, reference, index_path, errors,
                threads, seed, overwrite, digest=None) -> None:
    """Search chunk ``I/N`` of the reads against the reference (targets and decoys); write its scores and report."""
    from dataclasses import replace

    from protlm.cli._progress import progress_callback
    from protlm.io.atomic import prepare_outdir
    from protlm.report import base_report, write_json
    from protlm.sequencing.chunks import SCORES_FILE, chunk_bounds, parse_chunk
    from protlm.sequencing.identify import identify_reads
    from protlm.sequencing.index import open_reference
    from protlm.sequencing.reads import read_reads

    started = time.monotonic()
    i, n = parse_chunk(chunk)
    out = prepare_outdir(outdir, overwrite=overwrite, expected=CHUNK_OUTPUTS)
    reads = read_reads(reads_path, known=known)
    lo, hi = chunk_bounds(len(reads), i, n)
    if threads:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    t0 = time.perf_counter()
    index = open_reference(reference, index=index_path)
    index_seconds = time.perf_counter() - t0
    with progress_callback(desc=f"identification search, chunk {i}/{n}", total=hi - lo, unit="read") as cb:
        # fdr=0: nothing counts as identified inside a chunk (q-values need every chunk), so no alignment is traced
        ids = identify_reads(reads[lo:hi], index, known=known, efficiency=efficiency, errors=errors, fdr=0.0,
                             digest=digest, callback=cb)
    scores = replace(ids.scores, info={**ids.scores.info, "n_reads": len(reads), "chunk": i, "n_chunks": n,
                                       "first_read": lo})
    scores.write(out / SCORES_FILE)
    report = base_report(command="sequence", options={"reads": reads_path, "known": known, "efficiency": efficiency,
                                                      "reference": reference, "index": index_path, "chunk": f"{i}/{n}",
                                                      "edman_failure": errors.edman_failure,
                                                      "false_detection": errors.false_detection, "digest": digest,
                                                      "threads": threads},
                         seed=seed, device="cpu")
    report.update(chunk={"chunk": i, "n_chunks": n, "first_read": lo, "reads": hi - lo, "total_reads": len(reads)},
                  search={"reads_with_candidates": int((ids.protein >= 0).sum()), "decoy_winners": int(ids.decoy.sum()),
                          "seconds": ids.info["seconds"], "reads_per_second": ids.info["reads_per_second"],
                          "index_seconds": round(index_seconds, 3)},
                  wall_seconds=round(time.monotonic() - started, 2))
    write_json(out / "report.json", report)
    log.info("chunk %d/%d: %r", i, n, scores)
    click.echo(f"chunk {i}/{n}: reads {lo + 1}-{hi} of {len(reads)} searched; wrote {out}/{SCORES_FILE}, report.json "
               f"(gather with `protlm sequence READS --gather DIR ...`)")
