"""``protlm simulate``, ``protlm sequence`` and ``protlm train-sequencer``.

Heavy imports (torch, pandas, matplotlib) happen inside the commands.
"""

from __future__ import annotations

import logging
import time

import click

from protlm.cli._options import (device_option, init_option, model_option, no_download_option, overwrite_option,
                                 seed_option, threads_option)
from protlm.sequencing.digest import DIGESTS, parse_digest
from protlm.sequencing.error_model import DEFAULT_FALSE_DETECTION, WHATPROT_EDMAN_FAILURE
from protlm.sequencing.identify import DEFAULT_FDR
from protlm.sequencing.result import SEQUENCE_OUTPUTS
from protlm.sequencing.training import TrainingConfig

log = logging.getLogger(__name__)

# train-sequencer shows the library's defaults (never copies of them)
_T = TrainingConfig()


@click.command("train-sequencer")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="Checkpoints, split and report go here; a rerun resumes.")
@click.option("--split", "split_method", type=click.Choice(["kmer", "random"]), default="kmer", show_default=True,
              help="kmer: hold out whole clusters of related sequences (homology-aware); random: single sequences.")
@click.option("--valid-fraction", type=float, default=0.05, show_default=True)
@click.option("--test-fraction", type=float, default=0.1, show_default=True, help="Held out (clusters for --split kmer), never trained on.")
@click.option("--random-test-fraction", type=float, default=0.05, show_default=True, help="Single sequences held out from training clusters (the random-split test set).")
@click.option("--max-steps", type=int, default=_T.max_steps, show_default=True)
@click.option("--max-minutes", type=float, default=None, help="Stop after this much training time (over all resumed runs).")
@click.option("--batch-size", type=int, default=_T.batch_size, show_default=True)
@click.option("--lr", type=float, default=_T.lr, show_default=True)
@click.option("--warmup-steps", type=int, default=_T.warmup_steps, show_default=True, help="Linear learning-rate warm-up.")
@click.option("--arch", type=click.Choice(["transformer", "conv"]), default=_T.arch, show_default=True,
              help="transformer encoder, or dilated convolutions (the shipped model's; on a CPU about 2x faster "
                   "to train per residue at the same width).")
@click.option("--d-model", type=int, default=_T.d_model, show_default=True)
@click.option("--layers", type=int, default=_T.n_layers, show_default=True)
@click.option("--heads", type=int, default=_T.n_heads, show_default=True, help="Attention heads (transformer).")
@click.option("--d-ff", type=int, default=_T.d_ff, show_default=True, help="Feed-forward width (transformer).")
@click.option("--kernel-size", type=int, default=_T.kernel_size, show_default=True, help="Convolution width (conv).")
@click.option("--max-len", type=int, default=_T.max_len, show_default=True, help="Window length in tokens (residues + terminus markers).")
@click.option("--fragment-fraction", type=click.FloatRange(0, 1), default=_T.fragment_fraction, show_default=True,
              help="Share of training windows that are 6-60-residue peptides without terminus markers "
                   "(what `protlm sequence --peptides` shows the model).")
@click.option("--eval-every", type=int, default=_T.eval_every, show_default=True)
@click.option("--patience", type=int, default=_T.patience, show_default=True, help="Evaluations without improvement before stopping.")
@seed_option(_T.seed)
@device_option
@threads_option
@no_download_option
@click.option("--export", "export_path", type=click.Path(dir_okay=False), default=None, help="Copy the best weights here at the end.")
@init_option("sequence", help="Start from trained weights: a protlm sequencer (a file, or protlm_sequencer: the "
                              "shipped model; its architecture is kept), or an ESM-2 to fine-tune (a checkpoint file "
                              "in fair-esm's format, or a name such as esm2_t6_8M_UR50D); best.pt is then an ESM-2 "
                              "checkpoint.")
@overwrite_option(
              "Start afresh in an OUTDIR that holds a run with other options (a rerun with the same options "
                   "resumes; only --max-steps, --max-minutes, --patience and --threads may change on resuming).")
def train_sequencer_command(inputs, outdir, split_method, valid_fraction, test_fraction, random_test_fraction,
                            max_steps, max_minutes, batch_size, lr, warmup_steps, arch, d_model, layers, heads, d_ff,
                            kernel_size, max_len, fragment_fraction,
                            eval_every, patience, seed, device, threads, no_download, export_path, init, overwrite):
    """Train the masked-residue predictor on full protein sequences (FASTA, plain or gzipped).

    Sequences are split into train / valid / test (homology-held-out) /
    test_random; the split is written to OUTDIR/split.tsv and only "train" is
    trained on.  A rerun with the same OUTDIR resumes from OUTDIR/checkpoint.pt.
    """
    import os
    import shlex
    import sys
    from pathlib import Path

    from protlm.cli._progress import progress_callback
    from protlm.errors import ProtlmError
    from protlm.io.atomic import copy_atomic
    from protlm.report import base_report, write_json
    from protlm.sequencing.proteins import load_proteins
    from protlm.sequencing.split import split_sequences
    from protlm.sequencing.training import TrainingConfig, train_sequencer

    started = time.monotonic()
    init_weights = None
    if init:  # model to fine-tune: found (or refused) before any work
        from protlm.models.sequencer import is_sequencer_weights
        from protlm.models.weights import resolve_model

        resolved = resolve_model(init, task="sequence", option="--init", download=False if no_download else None)
        if resolved.format == "protlm-sequencer":  # protlm's own model: go on training it
            if not is_sequencer_weights(resolved.path):
                raise ProtlmError(f"--init {init}: not a torch checkpoint (give protlm sequencer weights or an "
                                  "ESM-2 checkpoint in fair-esm's format)")
            init_weights = resolved.path
        else:
            init_weights = resolved
    config = TrainingConfig(arch=arch, d_model=d_model, n_layers=layers, n_heads=heads, d_ff=d_ff,
                            kernel_size=kernel_size, max_len=max_len, fragment_fraction=fragment_fraction,
                            batch_size=batch_size, lr=lr, warmup_steps=warmup_steps, max_steps=max_steps, max_minutes=max_minutes,
                            eval_every=eval_every, patience=patience, seed=seed, threads=threads)
    from protlm.io.atomic import prepare_outdir

    out = prepare_outdir(outdir, overwrite=True)  # checked, not created: a rerun resumes in it
    ids, seqs, read_info = load_proteins(inputs)
    split = split_sequences(ids, seqs, valid_fraction=valid_fraction, test_fraction=test_fraction,
                            random_test_fraction=random_test_fraction, seed=seed, method=split_method)
    log.info("split: %r", split)
    train = [seqs[i] for i in split.indices("train")]
    valid = [seqs[i] for i in split.indices("valid")]
    if not train or not valid:
        raise ProtlmError(f"need training and validation sequences (got {len(train)} and {len(valid)} of "
                          f"{len(seqs)} proteins): give more proteins or a larger --valid-fraction")
    if overwrite:
        for name in ("checkpoint.pt", "best.pt", "history.json", "report.json"):
            (out / name).unlink(missing_ok=True)
    split.write(out / "split.tsv")
    metadata = {
        # the command line as typed (None when called from Python, e.g. click's test runner)
        "command": (" ".join(["protlm"] + [shlex.quote(a) for a in sys.argv[1:]])
                    if Path(sys.argv[0]).name == "protlm" else None),
        "inputs": [os.path.basename(p) for p in inputs],
        "proteins": read_info,
        "split": {**split.info, "counts": {s: len(split.indices(s)) for s in ("train", "valid", "test", "test_random")},
                  "digests": {s: split.digest(s) for s in ("train", "valid", "test", "test_random")}},
    }
    with progress_callback(desc="training", total=max_steps, unit="step") as cb:
        result = train_sequencer(train, valid, out, config=config, device=device, callback=cb, metadata=metadata,
                                 init=init_weights)
    if export_path:
        copy_atomic(result.best_path, export_path)
        log.info("best weights copied to %s", export_path)
    report = base_report(command="train-sequencer", options={**config.__dict__, "split": split_method,
                                                             "inputs": list(inputs), "export": export_path,
                                                             "init": str(getattr(init_weights, "path", init_weights))
                                                             if init_weights else None},
                         seed=seed, device=device)
    report.update(result={"step": result.step, "best_valid_loss": result.best_valid_loss, "stopped": result.stopped,
                          "history": result.history}, data=metadata, wall_seconds=round(time.monotonic() - started, 1))
    write_json(out / "report.json", report)
    click.echo(repr(result))


def _fragment_option(value):
    if value is None or value.lower() == "none":
        return None
    if value.lower() == "tryptic":
        return "tryptic"
    try:
        n = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: use none, tryptic or a positive length") from None
    if n <= 0:
        raise click.BadParameter(f"{value!r}: a fragment length must be positive")
    return n


@click.command("simulate")
@click.argument("input_fasta", metavar="INPUT", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Reads FASTA to write.")
@click.option("--known", required=True, help="Residue types the sequencer reads, e.g. KCYM.")
@click.option("--efficiency", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True,
              help="Probability that a residue of a known type is detected.")
@click.option("--fragment", default="none", show_default=True, help="none (whole proteins), tryptic, or a peptide length.")
@click.option("--min-length", type=int, default=6, show_default=True, help="Drop shorter reads (counted in the log).")
@click.option("--max-reads", type=int, default=None, help="Stop after this many reads.")
@click.option("--truth-out", type=click.Path(dir_okay=False), default=None,
              help="Truth FASTA (full sequences, same ids); default OUTPUT with .truth.fasta.")
@click.option("--errors", "error_preset", type=click.Choice(["none", "whatprot"]), default="none", show_default=True,
              help=f"Read errors beyond missed detections: whatprot sets Edman failure {WHATPROT_EDMAN_FAILURE:g} and false "
                   f"detection {DEFAULT_FALSE_DETECTION:g} (Whatprot's published parameters; Smith et al. 2023) unless "
                   "given below.")
@click.option("--edman-failure", type=click.FloatRange(0, 0.5), default=None,
              help="Per-cycle probability that a cycle removes nothing (later residues shift by one).")
@click.option("--false-detection", type=click.FloatRange(0, 0.5), default=None,
              help="Probability that a position showing nothing shows a random known letter.")
@click.option("--cycles", type=click.IntRange(1), default=None, help="Read only the first N cycles.")
@seed_option(0)
@overwrite_option("Replace existing outputs.")
def simulate_command(input_fasta, output, known, efficiency, fragment, min_length, max_reads, truth_out, error_preset,
                     edman_failure, false_detection, cycles, seed, overwrite):
    """Make partial reads (and the truth FASTA) from full protein sequences (FASTA, UniProt/UniRef, gzip ok)."""
    from pathlib import Path

    from protlm.errors import OutputExistsError
    from protlm.io import iter_fasta
    from protlm.sequencing.reads import parse_known
    from protlm.sequencing.simulate import simulate_reads

    known = parse_known(known)
    frag = _fragment_option(fragment)
    out = Path(output)
    if truth_out is None:
        stem = out.name[: -len(".fasta")] if out.name.endswith(".fasta") else out.name
        truth_out = out.with_name(stem + ".truth.fasta")
    for p in (out, Path(truth_out)):
        if p.exists() and not overwrite:
            raise OutputExistsError(f"{p}: exists; pass --overwrite to replace it")
    from protlm.sequencing.error_model import ErrorModel

    base = ErrorModel.whatprot() if error_preset == "whatprot" else ErrorModel()
    errors = ErrorModel(edman_failure=base.edman_failure if edman_failure is None else edman_failure,
                        false_detection=base.false_detection if false_detection is None else false_detection,
                        cycles=cycles)
    sim = simulate_reads(iter_fasta(input_fasta), known=known, efficiency=efficiency, fragment=frag,
                         min_length=min_length, max_reads=max_reads, errors=errors, seed=seed)
    sim.write(out, truth_out)
    log.info("%r; %d pieces shorter than %d dropped", sim, sim.info["n_too_short"], min_length)
    click.echo(f"wrote {len(sim)} reads to {out} and their truth to {truth_out}")


@click.command("sequence")
@click.argument("reads_path", metavar="READS", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--known", required=True, help="Residue types the sequencer reads, e.g. KCYM.")
@click.option("--efficiency", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True,
              help="Detection efficiency e: a known-type residue shows as X with probability 1 - e.")
@click.option("--truth", type=click.Path(exists=True, dir_okay=False), default=None,
              help="FASTA of the full sequences under the reads' ids: adds accuracies and plots.")
@model_option("sequence", "model_path",
              help="The sequencer: protlm's (a file of train-sequencer, or protlm_sequencer: the shipped model, "
                   "unless $PROTLM_SEQUENCER_WEIGHTS names another), or an ESM-2 used zero-shot or fine-tuned (a "
                   "name, esm2_t6_8M_UR50D ... esm2_t33_650M_UR50D, or a checkpoint file such as a fine-tuned best.pt).")
@click.option("--weights", "esm_weights", type=click.Path(), default=None, hidden=True,
              help="Deprecated (give the file as --model PATH): with an ESM-2 --model name, its checkpoint file or a "
                   "folder holding NAME.pt.")
@click.option("--refine", type=click.IntRange(0, 20), default=0, show_default=True,
              help="Iterative refinement passes (fill the most confident X, predict again).")
@click.option("--reference", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Reference proteome FASTA (plain/gzip; UniProt, UniRef) or `protlm index` file: reads are "
                   "matched against it and hits guide the prediction (hybrid); writes hits.tsv.")
@click.option("--index", "index_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Index built from --reference by `protlm index` (default: the cache, built when missing or stale).")
@click.option("--max-hits", type=click.IntRange(1, 100), default=5, show_default=True,
              help="Reference hits reported per read in hits.tsv.")
@click.option("--edman-failure", type=click.FloatRange(0, 0.5), default=WHATPROT_EDMAN_FAILURE, show_default=True,
              help="Per-cycle Edman failure rate the identification allows for (library default: Whatprot's).")
@click.option("--false-detection", type=click.FloatRange(0, 0.5), default=DEFAULT_FALSE_DETECTION, show_default=True,
              help="False-detection rate the identification allows for (library default).")
@click.option("--fdr", type=click.FloatRange(0, 1, min_open=True), default=DEFAULT_FDR, show_default=True,
              help="Reads identified at q <= FDR (target-decoy) are reconstructed from their protein.")
@click.option("--no-identify", is_flag=True, help="With --reference: skip identification (hybrid for every read).")
@click.option("--chunk", default=None, metavar="I/N",
              help="With --reference: only the identification search of chunk I of N of the reads (contiguous); "
                   "writes OUTDIR/scores.tsv and report.json, loads no model (the scatter step).")
@click.option("--gather", "gather_dirs", multiple=True, type=click.Path(exists=True),
              help="With --reference, repeated: the OUTDIR of each --chunk I/N run of these READS; their scores "
                   "replace the search and the q-values are computed over all of them (the gather step: the "
                   "outputs of an unchunked run).")
@click.option("--digest", type=click.Choice(["none", *DIGESTS], case_sensitive=False), default="none",
              show_default=True,
              help="With --reference: the protease that made the reads' peptides; identification places a read "
                   "only where its peptides start (after a cleavage site, or at a protein's N-terminus). Implies "
                   "--peptides.")
@click.option("--peptides", is_flag=True,
              help="Reads are peptides (tryptic or other fragments): their ends are not the protein's termini, "
                   "and the model is not told they are.")
@click.option("--batch-tokens", type=click.IntRange(256), default=16384, show_default=True)
@device_option
@threads_option
@no_download_option
@seed_option(0, help="Recorded; prediction itself is deterministic.")
@overwrite_option("Replace outputs already in OUTDIR.")
def sequence_command(reads_path, outdir, known, efficiency, truth, model_path, esm_weights, refine, reference, index_path,
                     max_hits, edman_failure, false_detection, fdr, no_identify, chunk, gather_dirs, digest, peptides,
                     batch_tokens,
                     device, threads, no_download, seed, overwrite):
    """Predict full sequences from partial reads (X or . at unread positions).

    Writes OUTDIR/predictions.fasta, positions.tsv and report.json; with
    --truth also accuracies in report.json, confusion.png and calibration.png.
    """
    started = time.monotonic()
    started_at = time.time() - 1  # file times have a coarse resolution on some filesystems
    from protlm.io.atomic import prepare_outdir
    from protlm.sequencing.reads import parse_known, read_reads

    known = parse_known(known)
    digest = parse_digest(digest)
    if digest and (not reference or no_identify):
        raise click.UsageError("--digest needs --reference (and identification: not --no-identify)")
    peptides = peptides or digest is not None
    if (chunk or gather_dirs) and (not reference or no_identify):
        raise click.UsageError("--chunk and --gather need --reference (and identification: not --no-identify)")
    if chunk and gather_dirs:
        raise click.UsageError("--chunk scatters, --gather gathers: give one of them")
    if chunk:
        from protlm.cli._chunks import score_chunk
        from protlm.sequencing.error_model import ErrorModel

        return score_chunk(reads_path, outdir, chunk=chunk, known=known, efficiency=efficiency, reference=reference,
                           index_path=index_path, errors=ErrorModel(edman_failure=edman_failure,
                                                                    false_detection=false_detection),
                           threads=threads, seed=seed, overwrite=overwrite, digest=digest)
    out = prepare_outdir(outdir, overwrite=overwrite, expected=SEQUENCE_OUTPUTS)
    scores = None
    if gather_dirs:
        from protlm.sequencing.chunks import gather_scores

        scores = gather_scores(gather_dirs)
    weights = _resolve_sequencer(model_path, esm_weights, download=False if no_download else None)
    reads = read_reads(reads_path, known=known)
    truth_seqs = None
    if truth:
        from protlm.sequencing.evaluate import read_truth

        truth_seqs = read_truth(truth, [r.id for r in reads])

    import torch

    from protlm.report import base_report
    from protlm.sequencing.result import load_backend, reads_have_errors, sequence_reads

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    from protlm.cli._progress import progress_callback

    guide = None
    if reference:  # reference-guided (hybrid) prediction, searched before any model is loaded
        from protlm.sequencing.hybrid import guide_reads

        from protlm.sequencing.error_model import ErrorModel

        errors = ErrorModel(edman_failure=edman_failure, false_detection=false_detection)
        with progress_callback(desc="reference search", total=len(reads), unit="read") as cb:
            guide = guide_reads(reads, reference, known=known, efficiency=efficiency, index=index_path,
                                max_hits=max_hits, identify=not no_identify, errors=errors, fdr=fdr, digest=digest, callback=cb,
                                scores=scores)
    backend = load_backend(weights, device=device)
    options = {"reads": reads_path, "known": known, "efficiency": efficiency, "truth": truth,
               "model": str(getattr(weights, "path", weights)), "refine": refine, "peptides": peptides,
               "batch_tokens": batch_tokens, "threads": threads}
    if guide is not None:
        options.update(reference=reference, index=index_path, max_hits=max_hits, edman_failure=edman_failure,
                       false_detection=false_detection, fdr=fdr, identify=not no_identify, digest=digest,
                       gathered_chunks=len(gather_dirs) or None)
    origins = None
    if truth_seqs is not None and guide is not None and guide.identifications is not None:
        from protlm.sequencing.evaluate import read_truth_origins

        origins = read_truth_origins(truth, [r.id for r in reads])
    with progress_callback(desc="windows", unit="window") as cb:
        result = sequence_reads(reads, known=known, backend=backend, efficiency=efficiency, refine=refine,
                                batch_tokens=batch_tokens, termini=not peptides, guide=guide, truth=truth_seqs,
                                truth_origins=origins, read_errors=truth_seqs is not None and reads_have_errors(reads_path),
                                options=options, seed=seed, callback=cb)
    result.write(out, report=base_report(command="sequence", options=result.options, seed=seed, device=result.device),
                 started=started)
    from protlm.io.atomic import remove_stale_outputs

    stale = remove_stale_outputs(out, SEQUENCE_OUTPUTS, since=started_at)  # e.g. plots of an earlier --truth run
    if stale:
        log.info("removed outputs of the earlier run that this one does not write: %s", ", ".join(stale))
    click.echo(f"{result.prediction!r}\nwrote {out}/predictions.fasta, positions.tsv, report.json"
               + (", confusion.png, calibration.png" if truth_seqs is not None else ""))


def _resolve_sequencer(model, esm_weights, *, download):
    """The weights ``--model NAME|PATH`` names (the one resolver), before any work; ``--weights`` is the old spelling."""
    from protlm.models.weights import resolve_model, resolve_weights

    if not esm_weights:
        return resolve_model(model, task="sequence", download=download)
    from protlm.models.esm2 import is_esm2_name

    log.warning("--weights is deprecated: give the ESM-2 file as --model PATH")
    if not is_esm2_name(model):
        raise click.BadParameter("goes with an ESM-2 --model, e.g. --model esm2_t6_8M_UR50D", param_hint="--weights")
    return resolve_weights(model, path=esm_weights, download=download)

