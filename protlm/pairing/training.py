"""Training an MSA Transformer on the known pairs of a family, for DiffPALM.

The model is fair-esm's :class:`esm.model.msa_transformer.MSATransformer`
(upstream class, upstream checkpoint format), trained by masked-language
modelling on rows ``<cls> + left + right``, the rows DiffPALM scores.  It can
start from scratch (a small architecture) or from a checkpoint (``init``, e.g.
the pretrained ``esm_msa1b_t12_100M_UR50S``).

What makes the model useful for pairing is *inter-chain* signal: predicting a
left-chain token must depend on the right chain of the same row.  The choices
made here to favour it (all MLM, no negatives):

* **MSAs of whole species.**  Each training MSA is a random set of whole
  training species (``depth`` rows at most), so column attention always sees
  the paralogs that pairing must tell apart.
* **Pairing-mode masking.**  In a fraction ``pair_mode_fraction`` of the
  steps, one chain is masked heavily (each token with probability
  ``chain_mask_prob``, 0.7 like DiffPALM at inference) in *every* row and the
  other chain is left intact: the model can only fill in the masked chain from
  its few visible tokens, the other rows, and its own partner chain.  The left
  chain is the masked one with probability ``left_fraction`` (DiffPALM masks the
  left chain), the right chain otherwise.
* **Standard steps.**  The remaining steps use BERT masking (``mlm_prob`` of
  all tokens; 80 % ``<mask>``, 10 % random, 10 % kept) to learn the family's
  single-chain statistics.

Validation uses held-out species: the pairing-mode loss (left chain masked at
0.7, fixed masks) at the true pairing, the same loss after shuffling each
species block, and their difference, the **pairing gap**: the inter-chain
signal DiffPALM can exploit.  Early stopping watches the true-pairing loss.

A training folder holds ``state.pt`` (everything needed to resume: a rerun
with the same folder continues where it stopped), ``model.pt`` (the best
model in fair-esm's checkpoint format, loadable by ``protlm pair --weights``)
and ``training.json`` (options, species split, history).

The masks, the loss and the pairing gap are in :mod:`protlm.pairing.mlm`;
the model builders and the steps of a run (one optimisation step, a
validation, the checkpoint, the export) in :mod:`protlm.pairing.training_run`.
This module holds the options, the result and the loop,
:func:`train_pair_model`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from protlm.errors import PairingInputError
from protlm.pairing.mlm import draw_msa, pairing_gap
from protlm.pairing.sampling import group_by_species, split_species
from protlm.pairing.training_run import (
    MODEL_FILE,
    _build_model,
    _load_init,
    _Run,
    _saved_state,
)

__all__ = ["TrainingConfig", "TrainingResult", "train_pair_model"]

log = logging.getLogger(__name__)

# Settings that define the run: a rerun into the same folder must match them.
_IDENTITY = (
    "layers", "embed_dim", "attention_heads", "ffn_embed_dim", "dropout", "depth", "lr", "warmup",
    "weight_decay", "chain_mask_prob", "pair_mode_fraction", "left_fraction", "mlm_prob", "val_fraction",
    "val_msas", "seed", "init",
)


@dataclass(frozen=True)
class TrainingConfig:
    """Options of :func:`train_pair_model`.

    Parameters
    ----------
    layers, embed_dim, attention_heads : int
        Architecture of a model trained from scratch (ignored with ``init``).
    ffn_embed_dim : int or None
        Feed-forward width; ``None`` means ``4 * embed_dim``.
    dropout : float
        Dropout of a model trained from scratch (also attention and activation dropout).
    depth : int
        Maximum number of rows of each training MSA (whole species are drawn until it is filled).
    steps : int
        Maximum number of optimisation steps (one MSA each).
    lr, warmup, weight_decay : float, int, float
        AdamW learning rate, linear warm-up steps, then cosine decay to 10 % of ``lr``.
    chain_mask_prob : float
        Masking probability of the masked chain in pairing-mode steps.
    pair_mode_fraction : float
        Share of steps in pairing mode; the others use standard BERT masking.
    left_fraction : float
        In pairing mode, probability that the left chain (rather than the right) is the masked one.
    mlm_prob : float
        Masking probability of standard steps.
    val_fraction : float
        Share of the training species held out for validation.
    val_msas : int
        Number of fixed validation MSAs.
    val_every : int
        Steps between validations (and checkpoints).
    patience : int
        Validations without improvement before stopping early.
    seed : int
        Seed of the species split, the sampling, the masks and the initialisation.
    init : str or None
        A fair-esm MSA Transformer checkpoint to start from.
    """

    layers: int = 4
    embed_dim: int = 64
    attention_heads: int = 4
    ffn_embed_dim: int | None = None
    dropout: float = 0.1
    depth: int = 32
    steps: int = 2000
    lr: float = 1e-3
    warmup: int = 100
    weight_decay: float = 0.01
    chain_mask_prob: float = 0.7
    pair_mode_fraction: float = 0.75
    left_fraction: float = 0.75
    mlm_prob: float = 0.15
    val_fraction: float = 0.1
    val_msas: int = 8
    val_every: int = 100
    patience: int = 6
    seed: int = 0
    init: str | None = None

    def __post_init__(self):
        checks = {
            "layers": self.layers >= 1,
            "embed_dim": self.embed_dim >= 1 and self.embed_dim % self.attention_heads == 0,
            "attention_heads": self.attention_heads >= 1,
            "depth": self.depth >= 2,
            "steps": self.steps >= 1,
            "lr": self.lr > 0,
            "warmup": self.warmup >= 0,
            "chain_mask_prob": 0 < self.chain_mask_prob <= 1,
            "pair_mode_fraction": 0 <= self.pair_mode_fraction <= 1,
            "left_fraction": 0 <= self.left_fraction <= 1,
            "mlm_prob": 0 < self.mlm_prob <= 1,
            "val_fraction": 0 < self.val_fraction < 1,
            "val_msas": self.val_msas >= 1,
            "val_every": self.val_every >= 1,
            "patience": self.patience >= 1,
            "dropout": 0 <= self.dropout < 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise PairingInputError(
                f"invalid training options: {values} (embed_dim must be a multiple of attention_heads; "
                "probabilities in (0, 1])"
            )

    @property
    def ffn_dim(self) -> int:
        """Hidden size of the feed-forward layers: ``ffn_embed_dim``, or ``4 * embed_dim`` when that is unset."""
        return self.ffn_embed_dim or 4 * self.embed_dim

    def identity(self) -> dict:
        """The settings a resumed run must share with the run it continues."""
        return {k: getattr(self, k) for k in _IDENTITY}


@dataclass(frozen=True, eq=False)
class TrainingResult:
    """What :func:`train_pair_model` produced.

    Attributes
    ----------
    out_dir : Path
        The training folder.
    model_path : Path
        The best model, in fair-esm's checkpoint format.
    steps_done : int
        Optimisation steps taken in all (across resumed runs).
    best_step : int
        Step of the best validation loss.
    best_val_loss : float
        Pairing-mode validation loss of the saved model.
    stopped_early : bool
        Whether early stopping ended the run.
    history : dict of str to list
        Per validation: ``step``, ``train_loss`` (mean since the last
        validation), ``val_loss``, ``val_loss_shuffled``, ``pairing_gap``.
    train_species, val_species : tuple of str
        The species split.
    """

    out_dir: Path
    model_path: Path
    steps_done: int
    best_step: int
    best_val_loss: float
    stopped_early: bool
    history: dict = field(default_factory=dict)
    train_species: tuple = ()
    val_species: tuple = ()

    def __repr__(self) -> str:
        gap = self.history.get("pairing_gap") or [float("nan")]
        return (
            f"TrainingResult(steps_done={self.steps_done}, best_step={self.best_step}, "
            f"best_val_loss={self.best_val_loss:.4f}, last_pairing_gap={gap[-1]:.4f}, "
            f"stopped_early={self.stopped_early}, model_path='{self.model_path}')"
        )

    def to_dataframe(self):
        """One row per validation: step, train_loss, val_loss, val_loss_shuffled, pairing_gap."""
        import pandas as pd

        return pd.DataFrame({k: list(v) for k, v in self.history.items()})

    def write(self, path) -> None:
        """Write the history as TSV."""
        from protlm.io.atomic import atomic_write

        with atomic_write(path) as fh:
            self.to_dataframe().to_csv(fh, sep="\t", index=False)


def train_pair_model(
    tokens: np.ndarray,
    species: Sequence,
    out_dir,
    *,
    split_at: int,
    config: TrainingConfig = TrainingConfig(),
    device="auto",
    overwrite: bool = False,
    callback: Callable | None = None,
) -> TrainingResult:
    """Train (or resume training) an MSA Transformer on known pairs, by masked-language modelling.

    Parameters
    ----------
    tokens : numpy.ndarray
        ``(n_pairs, 1 + left + right)`` token rows of the known pairs (see :func:`pair_tokens`).
    species : sequence
        Species of each pair; pairs with ``None`` are not used.
    out_dir : str or os.PathLike
        Training folder.  When it holds ``state.pt`` from a run with the same
        settings the run resumes (a finished run returns at once).
    split_at : int
        Length of the left chain.
    config : TrainingConfig
        Options.
    device : str
        ``"auto"`` (CUDA if present), ``"cpu"``, ``"cuda"``...
    overwrite : bool
        Start afresh even if ``out_dir`` holds a run.
    callback : callable, optional
        Called as ``callback(step, total=config.steps, loss=..., val_loss=...)`` after each step.

    Returns
    -------
    TrainingResult

    Raises
    ------
    PairingInputError
        Too few species, or shapes that do not fit the model.
    OutputExistsError
        ``out_dir`` holds a run with other settings and ``overwrite`` is false.

    Examples
    --------
    >>> import tempfile, esm
    >>> alphabet = esm.data.Alphabet.from_architecture("msa_transformer")
    >>> toks = np.array([[0, 5, 23, 13, 9], [0, 5, 13, 9, 18], [0, 23, 23, 9, 9], [0, 23, 13, 9, 18]] * 3)
    >>> species = [f"s{i // 2}" for i in range(12)]
    >>> cfg = TrainingConfig(layers=1, embed_dim=8, attention_heads=2, depth=4, steps=2,
    ...                      val_every=1, val_msas=1, val_fraction=0.3)
    >>> result = train_pair_model(toks, species, tempfile.mkdtemp(), split_at=2, config=cfg, device="cpu")
    >>> result.steps_done, result.model_path.name
    (2, 'model.pt')
    """
    import torch

    from protlm.models.device import resolve_device

    tokens = np.asarray(tokens, dtype=np.int64)
    _check_rows(tokens, species, split_at)
    out_dir = Path(out_dir)
    groups = group_by_species(species)
    if len(groups) < 2:
        raise PairingInputError(f"need at least 2 species to train and validate, got {len(groups)}")
    train_names, val_names = split_species(list(groups), test_fraction=config.val_fraction, seed=config.seed)
    state = _saved_state(out_dir, config, val_names, overwrite=overwrite)

    dev = resolve_device(device)
    torch.manual_seed(config.seed)
    # a file that is not a checkpoint fails here, before the folder exists
    model, alphabet = _load_init(config.init) if config.init else _build_model(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    run = _Run(model.to(dev), config=config, out_dir=out_dir, device=dev, split_at=split_at, n_pairs=len(tokens),
               train_names=train_names, val_names=val_names, state=state)
    val_rng = np.random.default_rng([config.seed, 1])
    val_msas = [draw_msa(tokens, groups, val_names, config.depth, val_rng) for _ in range(config.val_msas)]

    running = []
    t0 = time.perf_counter()
    model.train()
    while not run.best["stopped_early"] and run.step < config.steps:
        loss_value = run.train_step(tokens, groups, alphabet)
        running.append(loss_value)
        val = None
        if run.step % config.val_every == 0 or run.step == config.steps:
            val = pairing_gap(model, val_msas, split_at=split_at, alphabet=alphabet, seed=config.seed, device=dev)
            run.record_validation(val, train_loss=float(np.mean(running)),
                                  seconds_per_step=(time.perf_counter() - t0) / len(running))
            running, t0 = [], time.perf_counter()
        if callback is not None:
            callback(run.step, total=config.steps, loss=loss_value, **({"val_loss": val["loss_true"]} if val else {}))
    run.finish()
    return TrainingResult(
        out_dir=out_dir,
        model_path=out_dir / MODEL_FILE,
        steps_done=run.step,
        best_step=int(run.best["step"]),
        best_val_loss=float(run.best["loss"]),
        stopped_early=bool(run.best["stopped_early"]),
        history=run.history,
        train_species=tuple(train_names),
        val_species=tuple(val_names),
    )


def _check_rows(tokens: np.ndarray, species, split_at: int) -> None:
    if tokens.ndim != 2 or len(tokens) != len(species):
        raise PairingInputError(f"tokens of shape {tokens.shape} do not match {len(species)} species labels")
    if not 0 < split_at < tokens.shape[1] - 1:
        raise PairingInputError(f"split_at={split_at} outside the rows' {tokens.shape[1] - 1} residue columns")
    if tokens.shape[1] > 1024:
        raise PairingInputError(f"rows of {tokens.shape[1]} tokens exceed the MSA Transformer's 1024 positions")
