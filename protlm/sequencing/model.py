"""The masked-residue predictor: a small transformer encoder conditioned on the known set.

One set of weights serves every known set: the 20-letter mask of residue types
the sequencer reads, and the detection efficiency, are embedded and added to
every position, so ``KCYM``, ``KCYMRHWST`` or any other set is just another
input.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from protlm.sequencing.alphabet import PAD_TOKEN, VOCAB_SIZE

__all__ = ["SequencerModel"]


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
        self.config = dict(d_model=d_model, n_layers=n_layers, n_heads=n_heads, d_ff=d_ff, max_len=max_len, dropout=dropout)
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
