"""The masked-residue predictor: small networks conditioned on the known set.

One set of weights serves every known set: the 20-letter mask of residue types
the sequencer reads, and the detection efficiency, are embedded and added to
every position, so ``KCYM``, ``KCYMRHWST`` or any other set is just another
input.  Two architectures share that interface:

* :class:`SequencerModel` (``arch="transformer"``): a transformer encoder
  over a window with learned position embeddings;
* :class:`ConvSequencerModel` (``arch="conv"``): a residual stack of dilated
  1-D convolutions.  On a CPU it trains and predicts several times faster per
  residue than the transformer of the same width, which is what the shipped
  model needs (see the README's "Training and the shipped model").

:func:`build_sequencer_model` makes either from the ``config`` dictionary
stored in a weights file.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from protlm.models.alphabet import PAD_TOKEN, VOCAB_SIZE

__all__ = ["SequencerModel", "ConvSequencerModel", "build_sequencer_model"]


class SequencerModel(nn.Module):
    """Transformer encoder that scores the 20 residues at every position of a read window.

    Parameters
    ----------
    d_model, n_layers, n_heads, d_ff : int
        Width, depth, attention heads and feed-forward width.
    max_len : int
        Longest window (tokens, termini markers included) the position
        embedding covers.
    dropout : float
        Dropout during training.

    Notes
    -----
    Input tokens are residue indices 0-19 where a residue was read (or, during
    iterative refinement, filled in), ``MASK_TOKEN`` at an ``X``, ``BOS``/``EOS``
    where the window touches the protein's termini, and ``PAD`` after the end.
    The output logits are the model's ``log P_model(a | context)`` up to a
    constant; :mod:`protlm.sequencing.decode` multiplies in ``P(X | a)``.

    Examples
    --------
    >>> import torch
    >>> m = SequencerModel(d_model=16, n_layers=1, n_heads=2, d_ff=32, max_len=16)
    >>> tok = torch.full((2, 5), 20)
    >>> known = torch.zeros(2, 20); eff = torch.ones(2)
    >>> m(tok, known, eff).shape
    torch.Size([2, 5, 20])
    """

    def __init__(self, *, d_model=128, n_layers=4, n_heads=4, d_ff=512, max_len=512, dropout=0.1):
        super().__init__()
        self.config = dict(arch="transformer", d_model=d_model, n_layers=n_layers, n_heads=n_heads, d_ff=d_ff,
                           max_len=max_len, dropout=dropout)
        self.max_len = max_len
        self.embed_tokens = nn.Embedding(VOCAB_SIZE, d_model, padding_idx=PAD_TOKEN)
        self.embed_positions = nn.Embedding(max_len, d_model)
        # 20 known-set bits + detection efficiency -> one vector added everywhere
        self.embed_condition = nn.Sequential(nn.Linear(21, d_model), nn.GELU(), nn.Linear(d_model, d_model))
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, d_ff, dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.final_norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 20)
        self.scale = math.sqrt(d_model)

    def forward(self, tokens: torch.Tensor, known: torch.Tensor, efficiency: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, length, 20)`` for token windows ``(batch, length)``.

        ``known`` is ``(batch, 20)`` (0/1), ``efficiency`` is ``(batch,)``.
        """
        length = tokens.shape[1]
        positions = torch.arange(length, device=tokens.device)
        cond = self.embed_condition(torch.cat([known.float(), efficiency.float()[:, None]], dim=1))
        x = self.embed_tokens(tokens) + self.embed_positions(positions)[None] + cond[:, None, :]
        pad = tokens == PAD_TOKEN
        x = self.encoder(x, src_key_padding_mask=pad if bool(pad.any()) else None)
        return self.head(self.final_norm(x))


class ConvSequencerModel(nn.Module):
    """Residual stack of dilated 1-D convolutions that scores the 20 residues at every position.

    Parameters
    ----------
    d_model : int
        Channels.
    n_layers : int
        Residual blocks; block ``i`` uses dilation ``dilations[i % len(dilations)]``.
    kernel_size : int
        Odd kernel width.
    dilations : sequence of int
        Dilation cycle.  The default (1, 2, 4, 8, 16) with 9-wide kernels sees
        about 250 residues either side after two cycles.
    max_len : int
        Longest window (tokens, termini markers included) fed at prediction time.
    dropout : float
        Dropout during training.

    Notes
    -----
    Same tokens and outputs as :class:`SequencerModel`.  Hidden states are
    zeroed at ``PAD`` after every block and the norm is per position, so a
    window's output does not depend on how much padding its batch adds.

    Examples
    --------
    >>> import torch
    >>> m = ConvSequencerModel(d_model=16, n_layers=2, max_len=16)
    >>> tok = torch.full((2, 5), 20)
    >>> known = torch.zeros(2, 20); eff = torch.ones(2)
    >>> m(tok, known, eff).shape
    torch.Size([2, 5, 20])
    """

    def __init__(self, *, d_model=128, n_layers=10, kernel_size=9, dilations=(1, 2, 4, 8, 16), max_len=1024,
                 dropout=0.1):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, not {kernel_size}")
        dilations = tuple(int(d) for d in dilations)
        self.config = dict(arch="conv", d_model=d_model, n_layers=n_layers, kernel_size=kernel_size,
                           dilations=list(dilations), max_len=max_len, dropout=dropout)
        self.max_len = max_len
        self.embed_tokens = nn.Embedding(VOCAB_SIZE, d_model, padding_idx=PAD_TOKEN)
        self.embed_condition = nn.Sequential(nn.Linear(21, d_model), nn.GELU(), nn.Linear(d_model, d_model))
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(n_layers))
        self.convs = nn.ModuleList(
            nn.Conv1d(d_model, d_model, kernel_size, dilation=d, padding=d * (kernel_size - 1) // 2)
            for d in (dilations[i % len(dilations)] for i in range(n_layers))
        )
        self.mixes = nn.ModuleList(nn.Linear(d_model, d_model) for _ in range(n_layers))
        self.dropout = nn.Dropout(dropout)
        self.final_norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 20)

    def forward(self, tokens: torch.Tensor, known: torch.Tensor, efficiency: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, length, 20)`` for token windows ``(batch, length)``."""
        keep = (tokens != PAD_TOKEN).unsqueeze(-1).to(self.head.weight.dtype)
        cond = self.embed_condition(torch.cat([known.float(), efficiency.float()[:, None]], dim=1))
        x = (self.embed_tokens(tokens) + cond[:, None, :]) * keep
        for norm, conv, mix in zip(self.norms, self.convs, self.mixes):
            h = nn.functional.gelu(norm(x)) * keep
            h = conv(h.transpose(1, 2)).transpose(1, 2)
            h = mix(nn.functional.gelu(h))
            x = (x + self.dropout(h)) * keep
        return self.head(self.final_norm(x))


def build_sequencer_model(config: dict) -> nn.Module:
    """The model a weights file's ``config`` describes (no ``arch``: the transformer, as in older files).

    Parameters
    ----------
    config : dict
        ``arch`` (``"transformer"`` or ``"conv"``) and the keyword arguments of
        :class:`SequencerModel` or :class:`ConvSequencerModel`; not modified.

    Returns
    -------
    torch.nn.Module
        A new model with freshly initialised weights.

    Raises
    ------
    ValueError
        An unknown ``arch``.

    Examples
    --------
    >>> build_sequencer_model({"arch": "conv", "d_model": 16, "n_layers": 1}).config["arch"]
    'conv'
    """
    config = dict(config)
    arch = config.pop("arch", "transformer")
    if arch == "transformer":
        return SequencerModel(**config)
    if arch == "conv":
        return ConvSequencerModel(**config)
    raise ValueError(f"unknown sequencer architecture {arch!r} (expected 'transformer' or 'conv')")
