"""``protlm simulate``, ``protlm sequence`` and ``protlm train-sequencer``.

Heavy imports (torch, pandas, matplotlib) happen inside the commands.
"""

from __future__ import annotations

import logging
import time

import click

log = logging.getLogger(__name__)

_DEVICE_HELP = "auto (CUDA if available, else CPU), cpu, cuda, cuda:N or mps."


@click.command("train-sequencer")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="Checkpoints, split and report go here; a rerun resumes.")
@click.option("--split", "split_method", type=click.Choice(["kmer", "random"]), default="kmer", show_default=True,
              help="kmer: hold out whole clusters of related sequences (homology-aware); random: single sequences.")
@click.option("--valid-fraction", type=float, default=0.05, show_default=True)
@click.option("--test-fraction", type=float, default=0.1, show_default=True, help="Held out (clusters for --split kmer), never trained on.")
@click.option("--random-test-fraction", type=float, default=0.05, show_default=True, help="Single sequences held out from training clusters (the random-split test set).")
@click.option("--max-steps", type=int, default=3000, show_default=True)
@click.option("--max-minutes", type=float, default=None, help="Stop after this much training time (over all resumed runs).")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--d-model", type=int, default=128, show_default=True)
@click.option("--layers", type=int, default=4, show_default=True)
@click.option("--heads", type=int, default=4, show_default=True)
@click.option("--d-ff", type=int, default=512, show_default=True)
@click.option("--max-len", type=int, default=256, show_default=True, help="Window length in tokens (residues + terminus markers).")
@click.option("--eval-every", type=int, default=200, show_default=True)
@click.option("--patience", type=int, default=5, show_default=True, help="Evaluations without improvement before stopping.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help=_DEVICE_HELP)
@click.option("--threads", type=int, default=None, help="torch CPU threads.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False), default=None, help="Copy the best weights here at the end.")
def train_sequencer_command(inputs, outdir, split_method, valid_fraction, test_fraction, random_test_fraction,
                            max_steps, max_minutes, batch_size, lr, d_model, layers, heads, d_ff, max_len,
                            eval_every, patience, seed, device, threads, export_path):
    """Train the masked-residue predictor on full protein sequences (FASTA, plain or gzipped).

    Sequences are split into train / valid / test (homology-held-out) /
    test_random; the split is written to OUTDIR/split.tsv and only "train" is
    trained on.  A rerun with the same OUTDIR resumes from OUTDIR/checkpoint.pt.
    """
    import os
    from pathlib import Path

    from protlm.cli._progress import progress_callback
    from protlm.io.atomic import copy_atomic
    from protlm.report import base_report, write_json
    from protlm.sequencing.proteins import load_proteins
    from protlm.sequencing.split import split_sequences
    from protlm.sequencing.training import TrainingConfig, train_sequencer

    started = time.monotonic()
    config = TrainingConfig(d_model=d_model, n_layers=layers, n_heads=heads, d_ff=d_ff, max_len=max_len,
                            batch_size=batch_size, lr=lr, max_steps=max_steps, max_minutes=max_minutes,
                            eval_every=eval_every, patience=patience, seed=seed, threads=threads)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    ids, seqs, read_info = load_proteins(inputs)
    split = split_sequences(ids, seqs, valid_fraction=valid_fraction, test_fraction=test_fraction,
                            random_test_fraction=random_test_fraction, seed=seed, method=split_method)
    log.info("split: %r", split)
    split.write(out / "split.tsv")
    train = [seqs[i] for i in split.indices("train")]
    valid = [seqs[i] for i in split.indices("valid")]
    metadata = {
        "inputs": [os.path.basename(p) for p in inputs],
        "proteins": read_info,
        "split": {**split.info, "counts": {s: len(split.indices(s)) for s in ("train", "valid", "test", "test_random")},
                  "digests": {s: split.digest(s) for s in ("train", "valid", "test", "test_random")}},
    }
    with progress_callback(desc="training", total=max_steps, unit="step") as cb:
        result = train_sequencer(train, valid, out, config=config, device=device, callback=cb, metadata=metadata)
    if export_path:
        copy_atomic(result.best_path, export_path)
        log.info("best weights copied to %s", export_path)
    report = base_report(command="train-sequencer", options={**config.__dict__, "split": split_method,
                                                             "inputs": list(inputs), "export": export_path},
                         seed=seed, device=device)
    report.update(result={"step": result.step, "best_valid_loss": result.best_valid_loss, "stopped": result.stopped,
                          "history": result.history}, data=metadata, wall_seconds=round(time.monotonic() - started, 1))
    write_json(out / "report.json", report)
    click.echo(repr(result))
