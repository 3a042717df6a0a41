"""Training the masked-residue predictor, with validation, early stopping and resumable checkpoints.

Every step draws random proteins, a random window of each, and a random known
set and detection efficiency per protein (:mod:`protlm.sequencing.masking`),
so one model learns every known set.  The loss is the cross-entropy of the
true residue under the *decoded* distribution, ``P_model(a | context) x
P(X | a)`` renormalised: exactly what :mod:`protlm.sequencing.decode` computes
at prediction time.

``outdir`` holds ``checkpoint.pt`` (the latest state: model, optimiser, step,
random states, history; a rerun with the same ``outdir`` resumes from it),
``best.pt`` (the best weights on the validation set, in the format of
:mod:`protlm.models.sequencer`) and ``history.tsv``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.masking import make_batch

__all__ = ["TrainingConfig", "TrainingResult", "train_sequencer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    """Options of :func:`train_sequencer` (all recorded in the checkpoint).

    Examples
    --------
    >>> TrainingConfig(max_steps=10).batch_size
    32
    """

    arch: str = "transformer"
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 512
    kernel_size: int = 9
    max_len: int = 256
    fragment_fraction: float = 0.0
    dropout: float = 0.1
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 200
    max_steps: int = 3000
    max_minutes: float | None = None
    eval_every: int = 200
    patience: int = 5
    n_valid: int = 256
    seed: int = 0
    threads: int | None = None

    def model_kwargs(self) -> dict:
        """The ``config`` of :func:`~protlm.models.sequencer_model.build_sequencer_model` for this architecture."""
        if self.arch == "conv":
            return dict(arch="conv", d_model=self.d_model, n_layers=self.n_layers, kernel_size=self.kernel_size,
                        max_len=self.max_len, dropout=self.dropout)
        if self.arch == "transformer":
            return dict(arch="transformer", d_model=self.d_model, n_layers=self.n_layers, n_heads=self.n_heads,
                        d_ff=self.d_ff, max_len=self.max_len, dropout=self.dropout)
        raise ValueError(f"unknown arch {self.arch!r} (expected 'transformer' or 'conv')")


@dataclass(frozen=True)
class TrainingResult:
    """What a training run produced.

    Attributes
    ----------
    best_path : pathlib.Path
        The best weights (validation loss).
    step : int
        Steps done (over all resumed runs).
    best_valid_loss : float
    stopped : str
        ``"max_steps"``, ``"early_stopping"`` or ``"max_minutes"``.
    history : list of dict
        One entry per evaluation.
    """

    best_path: Path
    step: int
    best_valid_loss: float
    stopped: str
    history: list = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"TrainingResult(step={self.step}, best_valid_loss={self.best_valid_loss:.4f}, "
                f"stopped={self.stopped!r}, best_path='{self.best_path}')")

    def to_dataframe(self):
        """The validation history, one row per evaluation."""
        import pandas as pd

        return pd.DataFrame(self.history)

    def write(self, path) -> None:
        """Write the validation history as TSV to ``path``, atomically."""
        from protlm.io.atomic import atomic_write

        with atomic_write(path) as fh:
            self.to_dataframe().to_csv(fh, sep="\t", index=False)


#: Options that set the model's shape; a run started from protlm weights (``init``) keeps that model's.
SHAPE_OPTIONS = ("arch", "d_model", "n_layers", "n_heads", "d_ff", "kernel_size", "dropout")
#: Options a resumed run may change; any other difference from the checkpoint's is an error.
RESUMABLE_OPTIONS = frozenset({"max_steps", "max_minutes", "patience", "threads"})


def _lr_factor(step, config: TrainingConfig, minutes: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to 10 %.

    Progress is the larger of ``step / max_steps`` and, when ``max_minutes`` is
    set, ``minutes / max_minutes``, so a run limited by time still anneals.
    """
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.max_steps - config.warmup_steps)
    if config.max_minutes:
        progress = max(progress, minutes / config.max_minutes)
    progress = min(1.0, progress)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def _to_torch(batch, device):
    import torch

    return {k: torch.from_numpy(v).to(device) for k, v in batch.items()}


def _scores(model, batch):
    import torch

    logits = model(batch["tokens"], batch["known"], batch["efficiency"])
    log_px = torch.clamp(batch["log_px"], min=-1e4)  # -inf at e = 1: exact zero after softmax
    return logits + log_px[:, None, :]


def _loss(scores, targets):
    import torch.nn.functional as F

    loss = F.cross_entropy(scores.reshape(-1, 20), targets.reshape(-1), ignore_index=-100, reduction="sum")
    n = (targets >= 0).sum()
    correct = ((scores.argmax(-1) == targets) & (targets >= 0)).sum()
    return loss, n, correct


def _validation_batches(valid, config: TrainingConfig):
    """A fixed set of validation windows: half KCYM at e = 1, half the training mixture."""
    rng = np.random.default_rng(config.seed + 1)
    from protlm.models.alphabet import known_vector

    picks = rng.integers(0, len(valid), size=config.n_valid)
    kcym = (known_vector("KCYM"), 1.0)
    from protlm.sequencing.masking import sample_condition

    conds = [kcym if i % 2 == 0 else sample_condition(rng) for i in range(config.n_valid)]
    batches = []
    for lo in range(0, config.n_valid, config.batch_size):
        seqs = [valid[j] for j in picks[lo: lo + config.batch_size]]
        batches.append(make_batch(seqs, rng, max_len=config.max_len, p_hint=0.0,
                                  conditions=conds[lo: lo + config.batch_size], p_fragment=config.fragment_fraction))
    return batches


def _evaluate(model, batches, device):
    import torch

    model.eval()
    tot_loss = tot_n = 0.0
    kcym_n = kcym_c = 0.0
    # no_grad, not inference_mode: fair-esm's rotary embedding caches cos/sin tables per length, and a
    # table made under inference_mode cannot be used by the next training step's backward
    with torch.no_grad():
        for batch in batches:
            tb = _to_torch(batch, device)
            scores = _scores(model, tb)
            loss, n, _ = _loss(scores, tb["targets"])
            tot_loss += float(loss)
            tot_n += float(n)
            # KCYM e=1 windows are the even rows of each batch
            _, n2, c2 = _loss(scores[0::2], tb["targets"][0::2])
            kcym_n += float(n2)
            kcym_c += float(c2)
    model.train()
    return tot_loss / max(tot_n, 1), kcym_c / max(kcym_n, 1)


def train_sequencer(train, valid, outdir, *, config: TrainingConfig = TrainingConfig(), device="auto",
                    callback=None, metadata=None, init=None) -> TrainingResult:
    """Train (or resume training) the predictor.

    Parameters
    ----------
    train, valid : sequence of str
        Full protein sequences.
    outdir : str or os.PathLike
        Checkpoints go here; an existing ``checkpoint.pt`` is resumed.
    config : TrainingConfig
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``...
    callback : callable, optional
        ``callback(step, total=max_steps, **metrics)`` after every step.
    metadata : dict, optional
        Stored in the weights files (e.g. the data and split used).
    init : str or os.PathLike, optional
        Fine-tune an ESM-2 instead of training protlm's model from scratch:
        an ESM-2 name (found by the weights resolver) or checkpoint file in
        fair-esm's format (:mod:`protlm.models.esm2`); or a protlm sequencer
        weights file, trained further with its own architecture.  ``best.pt`` is then an
        ESM-2 checkpoint too (``protlm sequence --model esm2_... --weights best.pt``);
        the model-shape options of ``config`` are not used.

    Returns
    -------
    TrainingResult
    """
    import torch

    from protlm.models.device import resolve_device
    from protlm.models.sequencer import save_sequencer
    from protlm.report import write_json
    from protlm.models.alphabet import encode_residues
    from protlm.models.sequencer_model import build_sequencer_model

    if config.threads:
        torch.set_num_threads(config.threads)
    if not train or not valid:
        from protlm.errors import ProtlmError

        raise ProtlmError(f"need training and validation sequences (got {len(train)} and {len(valid)}): "
                          "give more proteins or a larger --valid-fraction")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    train_idx = [encode_residues(s) for s in train]
    valid_idx = [encode_residues(s) for s in valid]
    val_batches = _validation_batches(valid_idx, config)

    torch.manual_seed(config.seed)
    from protlm.errors import FormatError, WeightsNotFoundError
    from protlm.models.sequencer import load_sequencer

    own_init = False
    if init is not None and not hasattr(init, "path"):  # a path: protlm's own weights, or an ESM-2 checkpoint
        try:
            model, init_meta = load_sequencer(init, device=dev)
            own_init = True
        except (FormatError, WeightsNotFoundError):
            pass
    if own_init:  # protlm's own model, trained further (its architecture, not config's)
        model.train()
        log.info("starting from %s (step %s of its own training)", init, init_meta.get("step"))
    elif init is not None:
        from protlm.models.esm2 import load_esm2_sequencer_from

        model = load_esm2_sequencer_from(init, device=dev)
        model.train()
    else:
        model = build_sequencer_model(config.model_kwargs()).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    rng = np.random.default_rng(config.seed)
    state = {"step": 0, "elapsed": 0.0, "best": float("inf"), "since_best": 0, "history": []}
    ckpt_path = outdir / "checkpoint.pt"
    if ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        changed = [f"{k}: {ck['config'].get(k)!r} -> {v!r}" for k, v in asdict(config).items()
                   if k not in RESUMABLE_OPTIONS and ck["config"].get(k) != v]
        if changed:
            from protlm.errors import OutputExistsError

            raise OutputExistsError(
                f"{outdir}: holds a training run with other settings ({', '.join(changed)}); resume with the "
                f"same options (only {', '.join(sorted(RESUMABLE_OPTIONS))} may change), pass --overwrite, "
                "or choose another folder")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        rng.bit_generator.state = ck["numpy_rng"]
        torch.set_rng_state(ck["torch_rng"])
        state = ck["state"]
        log.info("resumed from %s at step %d", ckpt_path, state["step"])
    meta = dict(metadata or {})
    # with --init the model keeps its own shape: record the options that applied, and the shape that loads
    meta["training_config"] = {k: v for k, v in asdict(config).items() if not (own_init and k in SHAPE_OPTIONS)}
    if hasattr(model, "config") and isinstance(model.config, dict):
        meta["architecture"] = dict(model.config)
    if own_init:
        meta["init"] = {"path": str(init), "step": init_meta.get("step"), "command": init_meta.get("command"),
                        "architecture": init_meta.get("architecture"),
                        "training_config": init_meta.get("training_config"), "valid_loss": init_meta.get("valid_loss")}

    def save_checkpoint():
        from protlm.io.atomic import atomic_write

        with atomic_write(ckpt_path, "wb") as fh:
            torch.save({"config": asdict(config), "model": model.state_dict(), "optimizer": opt.state_dict(),
                        "numpy_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(), "state": state}, fh)

    model.train()
    stopped = "max_steps"
    t0 = time.monotonic() - state["elapsed"]
    n_params = sum(p.numel() for p in model.parameters())
    log.info("training %d parameters on %d sequences (%d validation), device %s", n_params, len(train), len(valid), dev)
    run_loss = run_n = run_c = 0.0
    while state["step"] < config.max_steps:
        if state["since_best"] >= config.patience:
            stopped = "early_stopping"
            break
        if config.max_minutes is not None and (time.monotonic() - t0) / 60 >= config.max_minutes:
            stopped = "max_minutes"
            break
        step = state["step"]
        for g in opt.param_groups:
            g["lr"] = config.lr * _lr_factor(step, config, (time.monotonic() - t0) / 60)
        picks = rng.integers(0, len(train_idx), size=config.batch_size)
        batch = _to_torch(make_batch([train_idx[i] for i in picks], rng, max_len=config.max_len,
                                     p_fragment=config.fragment_fraction), dev)
        loss, n, correct = _loss(_scores(model, batch), batch["targets"])
        opt.zero_grad(set_to_none=True)
        (loss / n.clamp(min=1)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] = step + 1
        run_loss += float(loss.detach())
        run_n += float(n)
        run_c += float(correct)
        if callback is not None:
            callback(state["step"], total=config.max_steps, loss=float(loss.detach()) / max(float(n), 1))
        if state["step"] % config.eval_every == 0 or state["step"] == config.max_steps:
            val_loss, val_acc = _evaluate(model, val_batches, dev)
            state["elapsed"] = time.monotonic() - t0
            entry = {"step": state["step"], "minutes": round(state["elapsed"] / 60, 2),
                     "lr": opt.param_groups[0]["lr"], "train_loss": run_loss / max(run_n, 1),
                     "train_accuracy": run_c / max(run_n, 1), "valid_loss": val_loss,
                     "valid_accuracy_kcym": val_acc}
            run_loss = run_n = run_c = 0.0
            state["history"].append(entry)
            log.info("step %d  %.1f min  train loss %.4f  valid loss %.4f  valid KCYM accuracy %.4f",
                     entry["step"], entry["minutes"], entry["train_loss"], val_loss, val_acc)
            if val_loss < state["best"]:
                state["best"] = val_loss
                state["since_best"] = 0
                meta.update(step=state["step"], valid_loss=val_loss, valid_accuracy_kcym=val_acc,
                            alphabet=AMINO_ACIDS)
                if init is not None and not own_init:
                    model.save(outdir / "best.pt", metadata=meta)
                else:
                    save_sequencer(model, outdir / "best.pt", metadata=meta)
            else:
                state["since_best"] += 1
            save_checkpoint()
            write_json(outdir / "history.json", state["history"])
    state["elapsed"] = time.monotonic() - t0
    save_checkpoint()
    log.info("training stopped (%s) at step %d; best validation loss %.4f", stopped, state["step"], state["best"])
    return TrainingResult(best_path=outdir / "best.pt", step=state["step"], best_valid_loss=state["best"],
                          stopped=stopped, history=list(state["history"]))
