"""fair-esm's ESM-2 as a partial-read predictor: loading, building, saving, and an adapter module.

:class:`ESM2Sequencer` wraps an upstream :class:`esm.model.esm2.ESM2` so that
it takes protlm's read tokens and returns 20 residue scores per position,
the interface of :class:`~protlm.models.sequencer_model.SequencerModel`.  Unknown
positions become ESM-2's ``<mask>``, window starts/ends at the protein's
termini become ``<cls>``/``<eos>``; the known set and efficiency are not
inputs of ESM-2 (zero-shot, they enter through the constrained decoding).
So the same predictor, decoding and training loop serve protlm's own model
and ESM-2: :class:`~protlm.sequencing.backends.ModelBackend` wraps either.

Checkpoints are fair-esm's ESM-2 format, ``{"cfg": {"model": Namespace(
encoder_layers=..., encoder_embed_dim=..., encoder_attention_heads=...,
token_dropout=...)}, "model": state}``, so pretrained files
(``esm2_t6_8M_UR50D.pt`` ... ``esm2_t33_650M_UR50D.pt``), files fine-tuned by
``protlm train-sequencer --init`` and tiny test models all load the same way,
found by the one weights resolver (:mod:`protlm.models.weights`).
"""

from __future__ import annotations

import argparse
import logging
import warnings
from pathlib import Path

import torch
from torch import nn

from protlm.errors import ProtlmError
from protlm.io.atomic import atomic_write
from protlm.models.esm_msa import load_checkpoint
from protlm.models.weights import ResolvedWeights, resolve_weights
from protlm.models.alphabet import AMINO_ACIDS, BOS_TOKEN, EOS_TOKEN, MASK_TOKEN, PAD_TOKEN, VOCAB_SIZE

__all__ = [
    "ESM2_MODELS",
    "ESM2Sequencer",
    "build_esm2",
    "save_esm2_checkpoint",
    "load_esm2_sequencer",
    "load_esm2_sequencer_from",
    "resolve_esm2_init",
    "is_esm2_name",
]

log = logging.getLogger(__name__)

#: Pretrained ESM-2 checkpoints known to fair-esm (smallest first).
ESM2_MODELS = (
    "esm2_t6_8M_UR50D",
    "esm2_t12_35M_UR50D",
    "esm2_t30_150M_UR50D",
    "esm2_t33_650M_UR50D",
    "esm2_t36_3B_UR50D",
    "esm2_t48_15B_UR50D",
)

#: Residues per window given to ESM-2 (it was trained on crops of 1,024 tokens).
ESM2_MAX_LEN = 1024


def is_esm2_name(name) -> bool:
    """Whether ``name`` names an ESM-2 model (rather than a weights file).

    Parameters
    ----------
    name : str or os.PathLike
        A ``--model``/``--init`` value.

    Examples
    --------
    >>> is_esm2_name("esm2_t6_8M_UR50D"), is_esm2_name("weights/best.pt")
    (True, False)
    """
    return isinstance(name, str) and name.startswith("esm2_") and "/" not in name and not name.endswith(".pt")


class ESM2Sequencer(nn.Module):
    """An ESM-2 that scores the 20 residues at every position of protlm read tokens.

    Parameters
    ----------
    esm_model : esm.model.esm2.ESM2
    alphabet : esm.data.Alphabet
    name : str
        Shown in reports.

    Examples
    --------
    >>> model = build_esm2(layers=1, embed_dim=32, heads=4)
    >>> tokens = torch.tensor([[22, 20, 8, 20, 23]])   # <cls> X K X <eos>
    >>> model(tokens, torch.zeros(1, 20), torch.ones(1)).shape
    torch.Size([1, 5, 20])
    """

    def __init__(self, esm_model, alphabet, *, name: str = "esm2"):
        super().__init__()
        self.esm = esm_model
        self.alphabet = alphabet
        self.name = name
        self.max_len = ESM2_MAX_LEN
        lut = torch.full((VOCAB_SIZE,), alphabet.unk_idx, dtype=torch.long)
        for i, a in enumerate(AMINO_ACIDS):
            lut[i] = alphabet.get_idx(a)
        lut[MASK_TOKEN] = alphabet.mask_idx
        lut[PAD_TOKEN] = alphabet.padding_idx
        lut[BOS_TOKEN] = alphabet.cls_idx
        lut[EOS_TOKEN] = alphabet.eos_idx
        self.register_buffer("token_map", lut, persistent=False)
        self.register_buffer("residue_columns", lut[:20].clone(), persistent=False)

    @property
    def config(self) -> dict:
        """The ESM-2 shape (layers, width, heads, ...) as a dict, as saved in checkpoints."""
        return {"arch": "esm2", "layers": self.esm.num_layers, "embed_dim": self.esm.embed_dim,
                "heads": self.esm.attention_heads, "token_dropout": self.esm.token_dropout}

    def forward(self, tokens, known=None, efficiency=None):
        """Residue logits ``(batch, length, 20)``; ``known`` and ``efficiency`` are accepted and ignored.

        This is upstream ``ESM2.forward`` (same modules, same token-dropout
        rescaling) except that a window made only of ``<mask>`` (a stretch of
        a read with no letter read) gives zero embeddings instead of 0/0, and
        a row of padding only gives finite (unused) scores instead of NaN.
        """
        esm_model = self.esm
        tokens = self.token_map[tokens]
        padding_mask = tokens.eq(esm_model.padding_idx)
        x = esm_model.embed_scale * esm_model.embed_tokens(tokens)
        if esm_model.token_dropout:
            is_mask = tokens.eq(esm_model.mask_idx)
            x = x.masked_fill(is_mask.unsqueeze(-1), 0.0)
            mask_ratio_train = 0.15 * 0.8
            src_lengths = (~padding_mask).sum(-1).clamp(min=1)
            observed = is_mask.sum(-1).to(x.dtype) / src_lengths
            x = x * (1 - mask_ratio_train) / (1 - observed).clamp(min=1.0 / src_lengths)[:, None, None]
        x = x * (1 - padding_mask.unsqueeze(-1).type_as(x))
        x = x.transpose(0, 1)
        attn_padding = None
        if padding_mask.any():
            # a row of padding only (an empty batch slot) would attend to nothing: let it see its first slot
            attn_padding = padding_mask.clone()
            attn_padding[:, 0] &= ~padding_mask.all(dim=1)
        for layer in esm_model.layers:
            x, _ = layer(x, self_attn_padding_mask=attn_padding, need_head_weights=False)
        x = esm_model.emb_layer_norm_after(x).transpose(0, 1)
        return esm_model.lm_head(x)[..., self.residue_columns]

    def save(self, path, *, metadata=None) -> Path:
        """Write the wrapped ESM-2 as a fair-esm checkpoint (see :func:`save_esm2_checkpoint`)."""
        return save_esm2_checkpoint(self.esm, path, metadata=metadata)


def build_esm2(*, layers: int = 6, embed_dim: int = 320, heads: int = 20, token_dropout: bool = True, seed: int = 0):
    """A randomly initialised ESM-2 (fair-esm's class) wrapped as :class:`ESM2Sequencer`.

    Parameters
    ----------
    layers, embed_dim, heads : int
        The ESM-2 shape (the defaults are ``esm2_t6_8M_UR50D``'s).
    token_dropout : bool
        fair-esm's token-dropout rescaling of masked positions.
    seed : int
        Seed of the random initialisation.

    The defaults are the shape of ``esm2_t6_8M_UR50D``; tests build tiny ones.
    """
    import esm

    torch.manual_seed(seed)
    alphabet = esm.data.Alphabet.from_architecture("ESM-1b")
    model = esm.model.esm2.ESM2(num_layers=layers, embed_dim=embed_dim, attention_heads=heads, alphabet=alphabet,
                                token_dropout=token_dropout)
    model.eval()
    return ESM2Sequencer(model, alphabet, name=f"esm2-random-t{layers}-{embed_dim}")


def save_esm2_checkpoint(esm_model, path, *, metadata=None) -> Path:
    """Save an :class:`esm.model.esm2.ESM2` in fair-esm's ESM-2 checkpoint format, atomically.

    Parameters
    ----------
    esm_model : esm.model.esm2.ESM2
        The model to save.
    path : str or os.PathLike
        Destination file (written atomically).
    metadata : dict, optional
        Stored beside the weights.

    The file loads with fair-esm's ``esm.pretrained.load_model_and_alphabet_core``
    (under a model name starting with ``esm2``; ``load_model_and_alphabet_local``
    also wants a ``*-contact-regression.pt`` beside it) and with
    :func:`load_esm2_sequencer`.  ``metadata`` (JSON-like) is stored under
    ``"protlm"``, which fair-esm ignores.

    Examples
    --------
    >>> import tempfile, os, esm
    >>> m = build_esm2(layers=1, embed_dim=32, heads=4)
    >>> p = save_esm2_checkpoint(m.esm, os.path.join(tempfile.mkdtemp(), "esm2_tiny.pt"))
    >>> data = torch.load(p, weights_only=False)
    >>> model, alphabet = esm.pretrained.load_model_and_alphabet_core("esm2_tiny", data)
    >>> model.num_layers, model.embed_dim
    (1, 32)
    """
    cfg = argparse.Namespace(
        encoder_layers=esm_model.num_layers,
        encoder_embed_dim=esm_model.embed_dim,
        encoder_attention_heads=esm_model.attention_heads,
        token_dropout=esm_model.token_dropout,
    )
    state = {"encoder." + k: v.detach().to("cpu").clone() for k, v in esm_model.state_dict().items()}
    data = {"cfg": {"model": cfg}, "model": state}
    if metadata:
        data["protlm"] = dict(metadata)
    path = Path(path)
    with atomic_write(path, "wb") as fh:
        torch.save(data, fh)
    return path


def load_esm2_sequencer(model_name: str = "esm2_t6_8M_UR50D", *, weights=None, device="cpu", download=None):
    """Load an ESM-2 checkpoint, found by the weights resolver, as an :class:`ESM2Sequencer` in eval mode.

    Parameters
    ----------
    model_name : str
        fair-esm name (``esm2_t6_8M_UR50D`` ... ``esm2_t33_650M_UR50D``); the
        file looked for is ``<model_name>.pt``.
    weights : str, os.PathLike, ResolvedWeights or None
        A checkpoint file (pretrained, fine-tuned or tiny) or a folder holding
        ``<model_name>.pt``; ``None`` searches the default places.
    device : str or torch.device
    download : bool or None
        Passed to :func:`~protlm.models.weights.resolve_weights`.

    Returns
    -------
    ESM2Sequencer

    Raises
    ------
    WeightsNotFoundError
        Listing every place searched (before anything is loaded).
    ProtlmError
        The file is not an ESM-2 checkpoint in fair-esm's format.
    """
    import esm.pretrained

    from protlm.models.device import resolve_device

    resolved = weights if isinstance(weights, ResolvedWeights) else resolve_weights(model_name, path=weights,
                                                                                   download=download)
    data = load_checkpoint(resolved.path)
    if not (isinstance(data, dict) and "cfg" in data and "model" in data):
        kind = getattr(data.get("args"), "arch", None) if isinstance(data, dict) and "args" in data else type(data).__name__
        raise ProtlmError(f"{resolved.path}: not an ESM-2 checkpoint in fair-esm's format (found {kind!r}); "
                          "ESM-2 files hold 'cfg' and 'model'")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Regression weights not found")
        # fair-esm chooses its ESM-2 loader by a name starting with "esm2"
        model, alphabet = esm.pretrained.load_model_and_alphabet_core("esm2_" + resolved.path.stem, data, None)
    model.eval()
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    wrapped = ESM2Sequencer(model, alphabet, name=model_name if resolved.path.stem == model_name else resolved.path.stem)
    log.info("loaded ESM-2 from %s (%s): %d layers, width %d", resolved.path, resolved.source, model.num_layers,
             model.embed_dim)
    return wrapped.to(dev).eval()


def resolve_esm2_init(init, *, download=None) -> ResolvedWeights:
    """The ESM-2 checkpoint to start from: an ESM-2 name (resolved) or a checkpoint file.

    Parameters
    ----------
    init : str or os.PathLike
        An ESM-2 model name or a checkpoint path.
    download : bool or None
        ``False`` never downloads (``--no-download``); see :func:`~protlm.models.weights.resolve_weights`.

    Raises
    ------
    WeightsNotFoundError
        Listing every place searched.
    """
    if isinstance(init, ResolvedWeights):
        return init
    if is_esm2_name(init):
        return resolve_weights(init, download=download)
    name = Path(init).stem
    return resolve_weights(name if name.startswith("esm2") else "esm2_" + name, path=init, download=download)


def load_esm2_sequencer_from(init, *, device="cpu") -> ESM2Sequencer:
    """:func:`load_esm2_sequencer` for an ESM-2 name, a checkpoint file or a :class:`ResolvedWeights`.

    Parameters
    ----------
    init : str or os.PathLike
        An ESM-2 model name (resolved like every weights file) or a checkpoint path.
    device : str or torch.device
        Where to put the model.
    """
    resolved = resolve_esm2_init(init)
    return load_esm2_sequencer(resolved.model_name, weights=resolved, device=device)
