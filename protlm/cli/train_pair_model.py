"""``protlm train-pair-model``: train an MSA Transformer on a family's known pairs.

Heavy imports (torch, fair-esm) happen inside the command.
"""

from __future__ import annotations

import logging
import time

import click

from protlm.cli._options import (device_option, init_option, no_download_option, overwrite_option, seed_option,
                                 species_key_option, threads_option)
from protlm.pairing.training import TrainingConfig

log = logging.getLogger(__name__)

# the library's defaults, shown (never copied) by the options below
_D = TrainingConfig()


@click.command("train-pair-model")
@click.argument("left", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.argument("right", required=False, type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False),
              help="Training folder: state.pt (resume), model.pt (fair-esm checkpoint), training.json, report.json.")
@click.option("--split-at", type=int, default=None,
              help="LEFT is one concatenated MSA: the left chain is its first N columns (no RIGHT then).")
@species_key_option
@click.option("--truth", default="same-order", show_default=True,
              help="The known pairs: same-order (row i of LEFT pairs with row i of RIGHT) or a TSV of left_id<TAB>right_id.")
@click.option("--exclude", default=None, help="Regular expression: rows whose header matches are left out (e.g. _DUMMY).")
@init_option("pair", help="Start from this MSA Transformer (a fair-esm checkpoint such as a model.pt of an earlier "
                          "run, the pretrained esm_msa1b_t12_100M_UR50S, or demo); --layers/--embed-dim/--heads are "
                          "then ignored.")
@no_download_option
@click.option("--layers", type=int, default=_D.layers, show_default=True, help="Layers of a model trained from scratch.")
@click.option("--embed-dim", type=int, default=_D.embed_dim, show_default=True, help="Width of a model trained from scratch.")
@click.option("--heads", type=int, default=_D.attention_heads, show_default=True, help="Attention heads of a model trained from scratch.")
@click.option("--depth", type=int, default=_D.depth, show_default=True, help="Rows per training MSA (whole species).")
@click.option("--steps", type=int, default=_D.steps, show_default=True, help="Maximum optimisation steps.")
@click.option("--lr", type=float, default=_D.lr, show_default=True)
@click.option("--warmup", type=int, default=_D.warmup, show_default=True)
@click.option("--chain-mask-prob", type=float, default=_D.chain_mask_prob, show_default=True,
              help="Masking rate of the masked chain in pairing-mode steps.")
@click.option("--pair-mode-fraction", type=float, default=_D.pair_mode_fraction, show_default=True,
              help="Share of steps that mask one whole chain (the rest: 15 % BERT masking).")
@click.option("--val-fraction", type=float, default=_D.val_fraction, show_default=True, help="Species held out for validation.")
@click.option("--val-every", type=int, default=_D.val_every, show_default=True)
@click.option("--patience", type=int, default=_D.patience, show_default=True, help="Validations without improvement before stopping.")
@seed_option(_D.seed)
@device_option
@threads_option
@overwrite_option("Start afresh in an OUTDIR that holds another run.")
def train_pair_model(left, right, outdir, split_at, species_key, truth, exclude, init, no_download, layers, embed_dim,
                     heads, depth, steps, lr, warmup, chain_mask_prob, pair_mode_fraction, val_fraction, val_every,
                     patience, seed, device, threads, overwrite):
    """Train an MSA Transformer by masked-language modelling on the known pairs of LEFT and RIGHT.

    Rows are <cls> + left + right, as DiffPALM scores them.  Species are split
    into training and validation species; each step draws whole training
    species.  A rerun with the same OUTDIR resumes; OUTDIR/model.pt (the best
    validation model) loads with `protlm pair --model OUTDIR/model.pt`.
    """
    import dataclasses
    from pathlib import Path

    from protlm.cli._progress import progress_callback
    from protlm.io import check_paired_layout, read_paired_families
    from protlm.pairing.mlm import pair_tokens
    from protlm.pairing.training import TrainingConfig, train_pair_model as train
    from protlm.report import base_report, write_json

    started = time.monotonic()
    check_paired_layout(right, split_at)
    if init:  # the model to start from: found (or refused) before any work
        from protlm.models.weights import resolve_model

        init = resolve_model(init, task="pair", option="--init", download=False if no_download else None).path
    # check options before reading anything large
    config = TrainingConfig(
        layers=layers, embed_dim=embed_dim, attention_heads=heads, depth=depth, steps=steps, lr=lr, warmup=warmup,
        chain_mask_prob=chain_mask_prob, pair_mode_fraction=pair_mode_fraction, val_fraction=val_fraction,
        val_every=val_every, patience=patience, seed=seed, init=str(init) if init else None,
    )
    if threads:
        import torch

        torch.set_num_threads(threads)
    paired = read_paired_families(left, right, split_at=split_at, species_key=species_key, truth=truth,
                                  exclude=exclude)
    log.info("%r", paired)
    import esm

    tokens, species = pair_tokens(paired, esm.data.Alphabet.from_architecture("msa_transformer"))
    log.info("training on %d known pairs in %d species", len(tokens), len(set(species)))
    with progress_callback(desc="training", total=steps, unit="step") as cb:
        result = train(tokens, species, outdir, split_at=paired.left.n_columns, config=config, device=device,
                       overwrite=overwrite, callback=cb)
    log.info("%r", result)
    out = Path(outdir)
    result.write(out / "history.tsv")
    report = base_report(command="train-pair-model", options=dataclasses.asdict(config), seed=seed, device=device)
    report.update(
        inputs=[str(left)] + ([str(right)] if right else []),
        data=paired.summary(),
        n_training_pairs=int(len(tokens)),
        steps_done=result.steps_done,
        best_step=result.best_step,
        best_val_loss=result.best_val_loss,
        stopped_early=result.stopped_early,
        pairing_gap=result.history.get("pairing_gap", []),
        model=str(result.model_path),
        wall_seconds=time.monotonic() - started,
    )
    write_json(out / "report.json", report)
    click.echo(f"model: {result.model_path}  (best validation loss {result.best_val_loss:.4f} at step {result.best_step})")
