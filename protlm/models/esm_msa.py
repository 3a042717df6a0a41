"""fair-esm's MSA Transformer: loading, building, saving, one-hot forward passes.

protlm uses the upstream :class:`esm.model.msa_transformer.MSATransformer`
(no fork).  Gradients reach the input through a forward hook on
``embed_tokens`` that returns ``onehot @ weight`` (see :func:`onehot_logits`).
Checkpoints are fair-esm's v1 format: ``{"args": Namespace(arch=
"msa_transformer", encoder_layers=..., ...), "model": fairseq-style state}``
with the row/column attention names stored swapped, as fair-esm's loader
expects.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path

from protlm.errors import ModelLimitError, ProtlmError
from protlm.io.atomic import atomic_write
from protlm.models.weights import MSA_MODEL_NAME, resolve_weights

__all__ = [
    "MAX_ROWS",
    "MAX_COLUMNS",
    "load_msa_transformer",
    "load_checkpoint",
    "build_msa_transformer",
    "save_msa_checkpoint",
    "freeze",
    "onehot_logits",
    "check_msa_limits",
    "gradient_checkpointing",
]

log = logging.getLogger(__name__)

#: The ESM-MSA-1b limits: rows (MSA position embedding) and columns including ``<cls>``.
MAX_ROWS = 1024
MAX_COLUMNS = 1024

# model-args keys that fair-esm's v1 loader reads from "encoder_<key>"
_ENCODER_KEYS = ("layers", "embed_dim", "ffn_embed_dim", "attention_heads")


def is_torch_file(path) -> bool:
    """Whether ``path`` starts like a ``torch.save`` file (zip archive or legacy pickle).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.pt")
    >>> _ = open(p, "w").write("not a checkpoint")
    >>> is_torch_file(p)
    False
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return head == b"PK\x03\x04" or head[:1] == b"\x80"


def load_checkpoint(path) -> dict:
    """Read a fair-esm checkpoint file.

    Parameters
    ----------
    path : str or os.PathLike
        A fair-esm checkpoint (trusted: see :mod:`protlm.models.weights`).

    Tries ``torch.load(weights_only=True)`` with :class:`argparse.Namespace`
    allowed first; falls back to ``weights_only=False`` (needed by some fair-esm
    checkpoints under torch >= 2.6).  Only call this on files the user named or
    on fair-esm's own cache, which is what :func:`resolve_weights` returns.
    """
    import pickle

    import torch

    path = Path(path)
    if not is_torch_file(path):
        raise ProtlmError(f"{path}: not a torch checkpoint (a fair-esm .pt file starts as a zip archive or pickle)")
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, IndexError, EOFError) as exc:
        log.debug("weights_only load of %s failed (%s); loading the trusted file with weights_only=False", path, exc)
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ProtlmError(f"{path}: not a readable torch checkpoint ({exc})") from None


def load_msa_transformer(weights=None, *, device="cpu", download=None):
    """Load an MSA Transformer in fair-esm's checkpoint format, frozen and in eval mode.

    Parameters
    ----------
    weights : str, os.PathLike, ResolvedWeights or None
        A checkpoint file (pretrained, fine-tuned or small), or ``None`` to
        search the default places (see :mod:`protlm.models.weights`).
    device : str or torch.device
        Where to put the model (already resolved, or a name for
        :func:`~protlm.models.device.resolve_device`).
    download : bool or None
        Passed to :func:`~protlm.models.weights.resolve_weights`.

    Returns
    -------
    model : esm.MSATransformer
    alphabet : esm.data.Alphabet

    Raises
    ------
    WeightsNotFoundError
        No weights found (raised before anything is loaded).
    ProtlmError
        The file is not an MSA Transformer checkpoint.
    """
    from protlm.models.weights import ResolvedWeights

    resolved = weights if isinstance(weights, ResolvedWeights) else resolve_weights(MSA_MODEL_NAME, path=weights, download=download)
    import esm.pretrained
    import torch

    from protlm.models.device import resolve_device

    data = load_checkpoint(resolved.path)
    args = data.get("args") if isinstance(data, dict) else None
    if args is None or getattr(args, "arch", None) != "msa_transformer":
        arch = getattr(args, "arch", None) if args is not None else ("ESM-2 (cfg)" if isinstance(data, dict) and "cfg" in data else None)
        raise ProtlmError(f"{resolved.path}: not an MSA Transformer checkpoint in fair-esm's format (arch={arch!r})")
    name = resolved.path.stem
    if name.startswith("esm2"):  # fair-esm picks its loader by name; this is a v1 checkpoint
        name = "msa_" + name
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Regression weights not found")
        model, alphabet = esm.pretrained.load_model_and_alphabet_core(name, data, None)
    freeze(model)
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    model = model.to(dev)
    log.info(
        "loaded MSA Transformer from %s: %d layers, width %d, %d parameters",
        resolved.path, model.args.layers, model.args.embed_dim, sum(p.numel() for p in model.parameters()),
    )
    return model, alphabet


def freeze(model):
    """Eval mode (no dropout) and no gradients for the weights; returns ``model``.

    Parameters
    ----------
    model : torch.nn.Module
        Changed in place.
    """
    model.eval()
    model.requires_grad_(False)
    return model


def build_msa_transformer(
    *,
    layers: int,
    embed_dim: int,
    heads: int,
    ffn_dim: int,
    max_positions: int = 1024,
    embed_positions_msa: bool = True,
    dropout: float = 0.1,
    max_tokens_per_msa: int = 2**14,
    seed: int | None = 0,
):
    """A randomly initialised upstream MSA Transformer (for tests, benchmarks, training).

    Parameters
    ----------
    layers, embed_dim, heads, ffn_dim : int
        Architecture (ESM-MSA-1b: 12, 768, 12, 3072).
    max_positions : int
        Longest row (columns including ``<cls>``).
    embed_positions_msa : bool
        Learned row-position embedding (as ESM-MSA-1b; limits depth to 1024).
    dropout : float
        Dropout rates recorded in the args (inactive in eval mode).
    seed : int or None
        Seed of the initialisation (``None``: torch's global generator).

    Returns
    -------
    model : esm.MSATransformer
        In eval mode, weights trainable (call :func:`freeze` to freeze).
    alphabet : esm.data.Alphabet
    args : argparse.Namespace
        The model args, as :func:`save_msa_checkpoint` takes them.

    Examples
    --------
    >>> model, alphabet, args = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64)
    >>> model.args.layers, len(alphabet)
    (1, 33)
    """
    import esm
    import torch

    args = argparse.Namespace(
        arch="msa_transformer",
        layers=layers,
        embed_dim=embed_dim,
        ffn_embed_dim=ffn_dim,
        attention_heads=heads,
        dropout=dropout,
        attention_dropout=dropout,
        activation_dropout=dropout,
        max_tokens_per_msa=max_tokens_per_msa,
        max_tokens=max_tokens_per_msa,
        max_positions=max_positions,
        embed_positions_msa=embed_positions_msa,
        embed_positions_msa_dim=embed_dim,
    )
    alphabet = esm.Alphabet.from_architecture("msa_transformer")
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        model = esm.MSATransformer(args, alphabet)
    model.eval()
    return model, alphabet, args


def _swap_row_column(key: str) -> str:
    return key.replace("row", "column") if "row" in key else key.replace("column", "row")


def save_msa_checkpoint(model, args, path) -> Path:
    """Save an MSA Transformer in fair-esm's v1 checkpoint format, atomically.

    The file loads with ``esm.pretrained.load_model_and_alphabet_core`` and with
    :func:`load_msa_transformer` (``--model PATH``).

    Parameters
    ----------
    model : esm.MSATransformer
    args : argparse.Namespace or None
        Model args (``model.args`` when ``None``).
    path : str or os.PathLike
        Destination (``.pt``).  Its stem becomes the model name in fair-esm's loader.

    Examples
    --------
    >>> import tempfile, os
    >>> model, alphabet, args = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64)
    >>> p = save_msa_checkpoint(model, args, os.path.join(tempfile.mkdtemp(), "tiny.pt"))
    >>> loaded, _ = load_msa_transformer(p)
    >>> loaded.args.embed_dim
    32
    """
    import torch

    args = vars(args if args is not None else model.args)
    ckpt_args = {}
    for key, value in args.items():
        if key == "embed_positions_msa_dim":  # recomputed by the loader from the state
            continue
        ckpt_args[f"encoder_{key}" if key in _ENCODER_KEYS else key] = value
    ckpt_args["arch"] = "msa_transformer"
    state = {}
    for key, value in model.state_dict().items():
        prefix = "encoder." if key.startswith(("lm_head.", "contact_head.")) else "encoder.sentence_encoder."
        state[prefix + _swap_row_column(key)] = value.detach().to("cpu").clone()
    path = Path(path)
    with atomic_write(path, "wb") as fh:
        torch.save({"args": argparse.Namespace(**ckpt_args), "model": state}, fh)
    return path


def check_msa_limits(model, n_rows: int, n_columns: int, *, what: str = "MSA") -> None:
    """Raise :class:`ModelLimitError` if ``n_rows`` x ``n_columns`` (incl. ``<cls>``) exceeds the model.

    Parameters
    ----------
    model : esm.MSATransformer
        The model whose row and column limits apply.
    n_rows, n_columns : int
        Size of the MSA one forward pass would see (``<cls>`` included in the columns).
    what : str
        What to call the MSA in the message.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> m = SimpleNamespace(args=SimpleNamespace(max_positions=1024, embed_positions_msa=True))
    >>> check_msa_limits(m, 1025, 10)
    Traceback (most recent call last):
    ...
    protlm.errors.ModelLimitError: MSA has 1025 rows; the MSA Transformer takes at most 1024 (use --max-depth to split species groups)
    """
    max_cols = int(getattr(model.args, "max_positions", MAX_COLUMNS))
    if getattr(model.args, "embed_positions_msa", False) and n_rows > MAX_ROWS:
        raise ModelLimitError(
            f"{what} has {n_rows} rows; the MSA Transformer takes at most {MAX_ROWS} (use --max-depth to split species groups)"
        )
    if n_columns > max_cols:
        raise ModelLimitError(
            f"{what} has {n_columns} columns including <cls>; the MSA Transformer takes at most {max_cols}"
        )


def onehot_logits(model, onehot, *, precision: str = "fp32"):
    """Logits of ``model`` for a one-hot (or soft) MSA, differentiable in ``onehot``.

    A forward hook on ``embed_tokens`` replaces the embedding lookup by
    ``onehot @ weight``; ``onehot.argmax(-1)`` gives the tokens used for
    positions and padding.

    Parameters
    ----------
    model : esm.MSATransformer
    onehot : torch.Tensor
        ``(batch, rows, columns, alphabet)``.
    precision : {"fp32", "bf16"}
        ``bf16`` runs the model under :func:`torch.autocast` (matrix products in
        bfloat16, normalisations and softmax in float32, the weights unchanged);
        the logits are returned as float32 either way.

    Returns
    -------
    torch.Tensor
        ``(batch, rows, columns, alphabet)`` logits.
    """
    import torch

    tokens = onehot.detach().argmax(-1)

    def hook(module, inputs, output):
        return onehot.to(module.weight.dtype) @ module.weight

    handle = model.embed_tokens.register_forward_hook(hook)
    autocast = (torch.autocast(onehot.device.type, dtype=torch.bfloat16) if precision == "bf16"
                else contextlib.nullcontext())
    try:
        with autocast:
            logits = model(tokens)["logits"]
        return logits.float()
    finally:
        handle.remove()


@contextlib.contextmanager
def gradient_checkpointing(model, enabled: bool = True):
    """Recompute each axial layer's activations in the backward pass (less memory, more time).

    Parameters
    ----------
    model : esm.MSATransformer
        Changed in place.
    enabled : bool
        Turn checkpointing on (``True``) or off.
    """
    if not enabled:
        yield model
        return
    from torch.utils.checkpoint import checkpoint

    patched = []
    for layer in model.layers:
        original = layer.forward

        def forward(*args, _original=original, **kwargs):
            return checkpoint(_original, *args, use_reentrant=False, **kwargs)

        layer.forward = forward
        patched.append(layer)
    try:
        yield model
    finally:
        for layer in patched:
            del layer.forward
