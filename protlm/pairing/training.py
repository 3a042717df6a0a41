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
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from protlm.errors import OutputExistsError, PairingInputError
from protlm.pairing.sampling import group_by_species, sample_species, split_species

__all__ = [
    "TrainingConfig",
    "TrainingResult",
    "train_pair_model",
    "mask_rows",
    "pairing_gap",
    "pair_tokens",
]

log = logging.getLogger(__name__)

STATE_FILE = "state.pt"
MODEL_FILE = "model.pt"
REPORT_FILE = "training.json"

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
    embed_dim: int = 96
    attention_heads: int = 4
    ffn_embed_dim: int | None = None
    dropout: float = 0.1
    depth: int = 32
    steps: int = 3000
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
    patience: int = 8
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


# ---------------------------------------------------------------------------
# data


def pair_tokens(paired, alphabet) -> tuple[np.ndarray, list]:
    """Token rows ``<cls> + left + right`` of the known pairs of two families, with their species.

    Parameters
    ----------
    paired : protlm.io.PairedFamilies
        Families whose ``truth`` (``{left_row: right_row}``) lists the known pairs.
    alphabet : esm.data.Alphabet
        The MSA Transformer alphabet.

    Returns
    -------
    tokens : numpy.ndarray
        ``int64``, shape ``(n_pairs, 1 + left columns + right columns)``, in left-row order.
    species : list of str
        Species of each pair.

    Raises
    ------
    PairingInputError
        If no true pairs are known.
    AlphabetError
        On letters outside the alphabet (naming row and column).

    Examples
    --------
    >>> import esm
    >>> from protlm.io import MSA, PairedFamilies
    >>> msa = MSA.from_sequences(["ACD-", "AEDE"], ids=["a|s1", "b|s1"])
    >>> paired = PairedFamilies.from_concatenated(msa, split_at=2, species_key="field:|:2")
    >>> tokens, species = pair_tokens(paired, esm.data.Alphabet.from_architecture("msa_transformer"))
    >>> tokens.tolist(), species
    ([[0, 5, 23, 13, 30], [0, 5, 9, 13, 9]], ['s1', 's1'])
    """
    if not paired.truth:
        raise PairingInputError("no known pairs to train on: give the true pairing (e.g. --truth same-order)")
    in_block = {int(r): b.species for b in paired.blocks for r in b.left}
    pairs = sorted((l, r) for l, r in paired.truth.items() if l in in_block)
    if not pairs:
        raise PairingInputError("none of the known pairs lies in a species shared by both families")
    left = paired.left.tokenize(alphabet)
    right = paired.right.tokenize(alphabet)
    rows_l = np.array([l for l, _ in pairs], dtype=np.int64)
    rows_r = np.array([r for _, r in pairs], dtype=np.int64)
    cls = np.full((len(pairs), 1), alphabet.cls_idx, dtype=np.int64)
    tokens = np.concatenate([cls, left[rows_l], right[rows_r]], axis=1).astype(np.int64)
    return tokens, [in_block[l] for l, _ in pairs]


def mask_rows(
    tokens: np.ndarray,
    *,
    split_at: int,
    mode: str,
    rng: np.random.Generator,
    alphabet,
    chain_mask_prob: float = 0.7,
    mlm_prob: float = 0.15,
) -> tuple[np.ndarray, np.ndarray]:
    """Mask an MSA of pair rows for one training or validation step.

    Parameters
    ----------
    tokens : numpy.ndarray
        ``(rows, 1 + left + right)`` tokens; column 0 is ``<cls>``.
    split_at : int
        Length of the left chain.
    mode : {"left", "right", "mlm"}
        ``"left"``/``"right"``: that chain masked with ``chain_mask_prob`` in
        every row (``<mask>`` only); ``"mlm"``: BERT masking of all residues.
    rng : numpy.random.Generator
    alphabet : esm.data.Alphabet

    Returns
    -------
    masked, target : numpy.ndarray
        The input tokens and a boolean array of the positions to predict.

    Examples
    --------
    >>> import esm
    >>> alphabet = esm.data.Alphabet.from_architecture("msa_transformer")
    >>> tokens = np.full((4, 11), 5); tokens[:, 0] = 0
    >>> masked, target = mask_rows(tokens, split_at=4, mode="left", rng=np.random.default_rng(0),
    ...                            alphabet=alphabet, chain_mask_prob=1.0)
    >>> bool(target[:, 1:5].all()), bool(target[:, 5:].any()), int(masked[0, 1])
    (True, False, 32)
    """
    rows, width = tokens.shape
    target = np.zeros(tokens.shape, dtype=bool)
    masked = tokens.copy()
    if mode in ("left", "right"):
        cols = slice(1, 1 + split_at) if mode == "left" else slice(1 + split_at, width)
        block = target[:, cols]
        block[...] = rng.random(block.shape) < chain_mask_prob
        masked[target] = alphabet.mask_idx
    elif mode == "mlm":
        target[:, 1:] = rng.random((rows, width - 1)) < mlm_prob
        roll = rng.random(tokens.shape)
        masked[target & (roll < 0.8)] = alphabet.mask_idx
        swap = target & (roll >= 0.8) & (roll < 0.9)
        residues = np.array([alphabet.get_idx(c) for c in "ACDEFGHIKLMNPQRSTVWY-"])
        masked[swap] = rng.choice(residues, size=int(swap.sum()))
    else:
        raise PairingInputError(f"unknown masking mode {mode!r}; choose one of left, right, mlm")
    # at least one target, so the loss is defined
    if not target.any():
        target[0, 1] = True
        masked[0, 1] = alphabet.mask_idx
    return masked, target


def _shuffle_within_species(rows: np.ndarray, species: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Left-chain row order for a wrong pairing: a derangement inside each species block of 2+."""
    order = np.arange(len(rows))
    for s in np.unique(species):
        idx = np.flatnonzero(species == s)
        if len(idx) < 2:
            continue
        shift = rng.integers(1, len(idx))  # cyclic shift: no row keeps its partner
        order[idx] = idx[(np.arange(len(idx)) + shift) % len(idx)]
    return order


# ---------------------------------------------------------------------------
# model


def _build_model(config: TrainingConfig):
    """A fresh fair-esm ``MSATransformer`` of the configured size, trainable.

    No row-position embedding: the row order of a pairing MSA carries no
    meaning (rows get permuted), so the model should not depend on it.
    """
    from protlm.models.esm_msa import build_msa_transformer

    model, alphabet, args = build_msa_transformer(
        layers=config.layers,
        embed_dim=config.embed_dim,
        heads=config.attention_heads,
        ffn_dim=config.ffn_dim,
        dropout=config.dropout,
        embed_positions_msa=False,
        seed=config.seed,
    )
    _init_bert_params(model, seed=config.seed)
    return model, alphabet


def _init_bert_params(model, *, seed: int) -> None:
    """BERT/fairseq initialisation (normal, std 0.02; zero biases and padding row).

    PyTorch's default ``nn.Embedding`` init (std 1) with the tied LM head gives
    logits of standard deviation ~sqrt(width) and an initial loss near 15.
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * 0.02)
                if isinstance(module, torch.nn.Embedding) and module.padding_idx is not None:
                    module.weight[module.padding_idx].zero_()
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()


def _load_init(path):
    """A trainable copy of the fair-esm checkpoint ``path``."""
    from protlm.models.esm_msa import load_msa_transformer

    model, alphabet = load_msa_transformer(path, device="cpu")
    model.requires_grad_(True)
    return model, alphabet


def _msa_alphabet():
    import esm

    return esm.data.Alphabet.from_architecture("msa_transformer")


def _lr_at(step: int, config: TrainingConfig) -> float:
    if config.warmup and step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    span = max(1, config.steps - config.warmup)
    progress = min(1.0, (step - config.warmup) / span)
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def _masked_loss(model, tokens, target, truth):
    import torch.nn.functional as F

    logits = model(tokens[None])["logits"][0]
    return F.cross_entropy(logits[target], truth[target])


def pairing_gap(model, msas, *, split_at: int, alphabet, seed: int = 0, chain_mask_prob: float = 0.7, device=None) -> dict:
    """Inter-chain signal of a model: left-masked loss at the true pairing versus shuffled pairings.

    For each MSA (a ``(tokens, species)`` tuple), the left chain of every row
    is masked with ``chain_mask_prob`` (the same masks for both pairings) and
    the loss is computed with the true partners and after a derangement of the
    left chains inside each species.  A model that uses the right chain to
    predict the left one has a clearly positive gap.

    Returns
    -------
    dict
        ``loss_true``, ``loss_shuffled``, ``gap`` (means over the MSAs).
    """
    import torch

    was_training = model.training
    model.eval()
    device = device or next(model.parameters()).device
    true_losses, shuffled_losses = [], []
    try:
        with torch.no_grad():
            for k, (tokens, species) in enumerate(msas):
                rng = np.random.default_rng([seed, k])
                order = _shuffle_within_species(tokens, np.asarray(species), rng)
                masked, target = mask_rows(
                    tokens, split_at=split_at, mode="left", rng=rng, alphabet=alphabet, chain_mask_prob=chain_mask_prob
                )
                shuffled = tokens.copy()
                shuffled[:, : 1 + split_at] = tokens[order, : 1 + split_at]
                masked_shuffled = masked.copy()
                masked_shuffled[:, : 1 + split_at] = masked[order, : 1 + split_at]
                target_shuffled = target.copy()
                target_shuffled[:, : 1 + split_at] = target[order, : 1 + split_at]
                for toks, inp, tgt, sink in (
                    (tokens, masked, target, true_losses),
                    (shuffled, masked_shuffled, target_shuffled, shuffled_losses),
                ):
                    loss = _masked_loss(
                        model,
                        torch.as_tensor(inp, device=device),
                        torch.as_tensor(tgt, device=device),
                        torch.as_tensor(toks, device=device),
                    )
                    sink.append(float(loss))
    finally:
        model.train(was_training)
    lt, ls = float(np.mean(true_losses)), float(np.mean(shuffled_losses))
    return {"loss_true": lt, "loss_shuffled": ls, "gap": ls - lt}


def _draw_msa(tokens, groups, names, depth, rng):
    sizes = {s: len(groups[s]) for s in names}
    chosen = sample_species(sizes, depth=depth, rng=rng)
    rows, species = [], []
    for s in chosen:
        idx = groups[s]
        if len(idx) > depth:
            idx = np.sort(rng.choice(idx, size=depth, replace=False))
        rows.extend(idx.tolist())
        species.extend([s] * len(idx))
    return tokens[np.asarray(rows)], np.asarray(species, dtype=object)


# ---------------------------------------------------------------------------
# training loop


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

    from protlm.io.atomic import atomic_write
    from protlm.models.device import resolve_device
    from protlm.report import package_versions, write_json

    tokens = np.asarray(tokens, dtype=np.int64)
    if tokens.ndim != 2 or len(tokens) != len(species):
        raise PairingInputError(f"tokens of shape {tokens.shape} do not match {len(species)} species labels")
    if not 0 < split_at < tokens.shape[1] - 1:
        raise PairingInputError(f"split_at={split_at} outside the rows' {tokens.shape[1] - 1} residue columns")
    if tokens.shape[1] > 1024:
        raise PairingInputError(f"rows of {tokens.shape[1]} tokens exceed the MSA Transformer's 1024 positions")
    out_dir = Path(out_dir)
    state_path = out_dir / STATE_FILE
    model_path = out_dir / MODEL_FILE

    groups = group_by_species(species)
    if len(groups) < 2:
        raise PairingInputError(f"need at least 2 species to train and validate, got {len(groups)}")
    train_names, val_names = split_species(list(groups), test_fraction=config.val_fraction, seed=config.seed)

    dev = resolve_device(device)
    alphabet = _msa_alphabet()
    state = None
    if state_path.exists() and not overwrite:
        state = torch.load(state_path, map_location="cpu", weights_only=False)
        if state["identity"] != config.identity() or state["val_species"] != list(val_names):
            raise OutputExistsError(
                f"{out_dir}: holds a training run with other settings or data "
                f"({_diff(state['identity'], config.identity())}); pass --overwrite or choose another folder"
            )
        log.info("resuming %s at step %d", out_dir, state["step"])

    torch.manual_seed(config.seed)
    if config.init:  # a file that is not a checkpoint fails here, before the folder exists
        model, alphabet = _load_init(config.init)
    else:
        model, alphabet = _build_model(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history, step, best = state["history"], state["step"], state["best"]
    else:
        history = {k: [] for k in ("step", "train_loss", "val_loss", "val_loss_shuffled", "pairing_gap")}
        step, best = 0, {"loss": float("inf"), "step": 0, "bad": 0, "stopped_early": False}

    val_rng = np.random.default_rng([config.seed, 1])
    val_msas = [_draw_msa(tokens, groups, val_names, config.depth, val_rng) for _ in range(config.val_msas)]

    def save_state(model_state_best=None):
        payload = {
            "identity": config.identity(),
            "config": dataclasses.asdict(config),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "step": step,
            "best": best,
            "history": history,
            "val_species": list(val_names),
        }
        with atomic_write(state_path, "wb") as fh:
            torch.save(payload, fh)

    def export_best():
        from protlm.models.esm_msa import save_msa_checkpoint

        best_state = torch.load(out_dir / "best_state.pt", map_location="cpu", weights_only=True)
        current = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(best_state)
        save_msa_checkpoint(model, None, model_path)
        model.load_state_dict(current)

    def write_report():
        write_json(
            out_dir / REPORT_FILE,
            {
                "config": dataclasses.asdict(config),
                "device": str(dev),
                "split_at": split_at,
                "n_pairs": int(len(tokens)),
                "n_parameters": int(sum(p.numel() for p in model.parameters())),
                "steps_done": step,
                "best": best,
                "history": history,
                "train_species": list(train_names),
                "val_species": list(val_names),
                "versions": package_versions(),
            },
        )

    running, n_running, t0 = 0.0, 0, time.perf_counter()
    model.train()
    while not best["stopped_early"] and step < config.steps:
        rng = np.random.default_rng([config.seed, 2, step])
        torch.manual_seed(config.seed * 1_000_003 + step)
        msa, _ = _draw_msa(tokens, groups, train_names, config.depth, rng)
        roll = rng.random()
        if roll < config.pair_mode_fraction:
            mode = "left" if rng.random() < config.left_fraction else "right"
        else:
            mode = "mlm"
        masked, target = mask_rows(
            msa,
            split_at=split_at,
            mode=mode,
            rng=rng,
            alphabet=alphabet,
            chain_mask_prob=config.chain_mask_prob,
            mlm_prob=config.mlm_prob,
        )
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(step, config)
        loss = _masked_loss(
            model,
            torch.as_tensor(masked, device=dev),
            torch.as_tensor(target, device=dev),
            torch.as_tensor(msa, device=dev),
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        step += 1
        loss_value = float(loss.detach())
        running += loss_value
        n_running += 1

        val = None
        if step % config.val_every == 0 or step == config.steps:
            val = pairing_gap(model, val_msas, split_at=split_at, alphabet=alphabet, seed=config.seed, device=dev)
            history["step"].append(step)
            history["train_loss"].append(running / max(1, n_running))
            history["val_loss"].append(val["loss_true"])
            history["val_loss_shuffled"].append(val["loss_shuffled"])
            history["pairing_gap"].append(val["gap"])
            log.info(
                "step %d/%d: train loss %.4f, val loss %.4f (shuffled %.4f, pairing gap %.4f), %.2f s/step",
                step, config.steps, running / max(1, n_running), val["loss_true"], val["loss_shuffled"], val["gap"],
                (time.perf_counter() - t0) / max(1, n_running),
            )
            running, n_running, t0 = 0.0, 0, time.perf_counter()
            if val["loss_true"] < best["loss"]:
                best.update(loss=val["loss_true"], step=step, bad=0)
                with atomic_write(out_dir / "best_state.pt", "wb") as fh:
                    torch.save(model.state_dict(), fh)
            else:
                best["bad"] += 1
                if best["bad"] >= config.patience:
                    best["stopped_early"] = True
                    log.info("stopping early at step %d: no improvement for %d validations", step, best["bad"])
            save_state()
            write_report()
        if callback is not None:
            callback(step, total=config.steps, loss=loss_value, **({"val_loss": val["loss_true"]} if val else {}))

    if not model_path.exists() or (out_dir / "best_state.pt").stat().st_mtime > model_path.stat().st_mtime:
        export_best()
    write_report()
    return TrainingResult(
        out_dir=out_dir,
        model_path=model_path,
        steps_done=step,
        best_step=int(best["step"]),
        best_val_loss=float(best["loss"]),
        stopped_early=bool(best["stopped_early"]),
        history=history,
        train_species=tuple(train_names),
        val_species=tuple(val_names),
    )


def _diff(old: dict, new: dict) -> str:
    changed = [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in new if old.get(k) != new.get(k)]
    return ", ".join(changed) or "species split differs"
