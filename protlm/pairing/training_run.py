"""The steps of a pair-model training run (:func:`protlm.pairing.training.train_pair_model`).

Building or loading the model, the learning-rate schedule, resuming from
``state.pt``, and :class:`_Run`: one optimisation step, one validation (best
model, early stopping, checkpoint, report) and the final export of the best
model in fair-esm's checkpoint format.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path

import numpy as np

from protlm.errors import OutputExistsError
from protlm.pairing.mlm import draw_msa, mask_rows, masked_loss

log = logging.getLogger(__name__)

STATE_FILE = "state.pt"
MODEL_FILE = "model.pt"
REPORT_FILE = "training.json"



def _build_model(config):
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


def _lr_at(step: int, config) -> float:
    if config.warmup and step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    span = max(1, config.steps - config.warmup)
    progress = min(1.0, (step - config.warmup) / span)
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def _saved_state(out_dir: Path, config, val_names, *, overwrite: bool):
    """The state of an earlier run in ``out_dir`` to resume, or ``None``; refuses one with other settings."""
    import torch

    path = out_dir / STATE_FILE
    if overwrite or not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=False)
    if state["identity"] != config.identity() or state["val_species"] != list(val_names):
        raise OutputExistsError(
            f"{out_dir}: holds a training run with other settings or data "
            f"({_diff(state['identity'], config.identity())}); pass --overwrite or choose another folder"
        )
    log.info("resuming %s at step %d", out_dir, state["step"])
    return state


class _Run:
    """One training run's mutable state (model, optimiser, step, best, history) and its files.

    Every step is seeded by ``(seed, step)``, and :meth:`save` checkpoints after
    each validation, so a run resumed from ``state.pt`` continues exactly.
    """

    def __init__(self, model, *, config, out_dir, device, split_at, n_pairs, train_names, val_names, state):
        import torch

        self.model, self.config, self.out_dir, self.device = model, config, out_dir, device
        self.split_at, self.n_pairs, self.train_names, self.val_names = split_at, n_pairs, train_names, val_names
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=config.lr, weight_decay=config.weight_decay)
        if state is not None:
            model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.history, self.step, self.best = state["history"], state["step"], state["best"]
        else:
            self.history = {k: [] for k in ("step", "train_loss", "val_loss", "val_loss_shuffled", "pairing_gap")}
            self.step, self.best = 0, {"loss": float("inf"), "step": 0, "bad": 0, "stopped_early": False}

    def train_step(self, tokens, groups, alphabet) -> float:
        """One optimisation step on an MSA of whole training species; its loss."""
        import torch

        config, dev = self.config, self.device
        rng = np.random.default_rng([config.seed, 2, self.step])
        torch.manual_seed(config.seed * 1_000_003 + self.step)
        msa, _ = draw_msa(tokens, groups, self.train_names, config.depth, rng)
        if rng.random() < config.pair_mode_fraction:
            mode = "left" if rng.random() < config.left_fraction else "right"
        else:
            mode = "mlm"
        masked, target = mask_rows(msa, split_at=self.split_at, mode=mode, rng=rng, alphabet=alphabet,
                                   chain_mask_prob=config.chain_mask_prob, mlm_prob=config.mlm_prob)
        for group in self.optimizer.param_groups:
            group["lr"] = _lr_at(self.step, config)
        loss = masked_loss(self.model, torch.as_tensor(masked, device=dev), torch.as_tensor(target, device=dev),
                           torch.as_tensor(msa, device=dev))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.optimizer.step()
        self.step += 1
        return float(loss.detach())

    def record_validation(self, val: dict, *, train_loss: float, seconds_per_step: float) -> None:
        """Log a validation, keep the best model, decide early stopping, checkpoint."""
        import torch

        from protlm.io.atomic import atomic_write

        for key, value in (("step", self.step), ("train_loss", train_loss), ("val_loss", val["loss_true"]),
                           ("val_loss_shuffled", val["loss_shuffled"]), ("pairing_gap", val["gap"])):
            self.history[key].append(value)
        log.info("step %d/%d: train loss %.4f, val loss %.4f (shuffled %.4f, pairing gap %.4f), %.2f s/step",
                 self.step, self.config.steps, train_loss, val["loss_true"], val["loss_shuffled"], val["gap"],
                 seconds_per_step)
        if val["loss_true"] < self.best["loss"]:
            self.best.update(loss=val["loss_true"], step=self.step, bad=0)
            with atomic_write(self.out_dir / "best_state.pt", "wb") as fh:
                torch.save(self.model.state_dict(), fh)
        else:
            self.best["bad"] += 1
            if self.best["bad"] >= self.config.patience:
                self.best["stopped_early"] = True
                log.info("stopping early at step %d: no improvement for %d validations", self.step, self.best["bad"])
        self.save()
        self.write_report()

    def save(self) -> None:
        import torch

        from protlm.io.atomic import atomic_write

        payload = {"identity": self.config.identity(), "config": dataclasses.asdict(self.config),
                   "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.step,
                   "best": self.best, "history": self.history, "val_species": list(self.val_names)}
        with atomic_write(self.out_dir / STATE_FILE, "wb") as fh:
            torch.save(payload, fh)

    def write_report(self) -> None:
        from protlm.report import package_versions, write_json

        write_json(self.out_dir / REPORT_FILE, {
            "config": dataclasses.asdict(self.config), "device": str(self.device), "split_at": self.split_at,
            "n_pairs": int(self.n_pairs), "n_parameters": int(sum(p.numel() for p in self.model.parameters())),
            "steps_done": self.step, "best": self.best, "history": self.history,
            "train_species": list(self.train_names), "val_species": list(self.val_names),
            "versions": package_versions(),
        })

    def finish(self) -> None:
        """Export the best model in fair-esm's format (when newer than ``model.pt``) and the final report."""
        import torch

        from protlm.models.esm_msa import save_msa_checkpoint

        model_path, best_path = self.out_dir / MODEL_FILE, self.out_dir / "best_state.pt"
        if not model_path.exists() or best_path.stat().st_mtime > model_path.stat().st_mtime:
            best_state = torch.load(best_path, map_location="cpu", weights_only=True)
            current = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            self.model.load_state_dict(best_state)
            save_msa_checkpoint(self.model, None, model_path)
            self.model.load_state_dict(current)
        self.write_report()


def _diff(old: dict, new: dict) -> str:
    changed = [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in new if old.get(k) != new.get(k)]
    return ", ".join(changed) or "species split differs"
