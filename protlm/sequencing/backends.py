"""Scoring backends for the predictor: anything that turns token windows into 20 scores per position.

A backend has ``name``, ``max_len`` (tokens per window, terminus markers
included), ``device`` and ``window_logits(tokens, known, efficiency)``
returning ``(batch, length, 20)`` log-scores over
:data:`~protlm.models.alphabet.AMINO_ACIDS`.  Tokens use protlm's
vocabulary (residue indices 0-19, ``MASK_TOKEN``, ``PAD_TOKEN``, ``BOS_TOKEN``,
``EOS_TOKEN``); a backend for another model (e.g. a fair-esm ESM-2, with
``<mask>``, ``<cls>``, ``<eos>``) translates them.

* :class:`ModelBackend` — protlm's own :class:`~protlm.models.sequencer_model.SequencerModel`.
* :class:`FrequencyBackend` — the same residue frequencies everywhere: through
  the constrained decoder this is the "most frequent allowed residue" baseline.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from protlm.models.alphabet import AMINO_ACIDS, encode_residues

__all__ = ["SequencerBackend", "ModelBackend", "FrequencyBackend", "residue_frequencies"]


@runtime_checkable
class SequencerBackend(Protocol):
    """What :func:`~protlm.sequencing.predictor.predict_reads` needs from a model."""

    name: str
    max_len: int

    def window_logits(self, tokens, known, efficiency):  # pragma: no cover - protocol
        """Log-scores over the 20 residues at every position of a batch of windows.

        Parameters
        ----------
        tokens : numpy.ndarray
            Shape (batch, length) int64, protlm tokens (at most ``max_len`` per window).
        known : numpy.ndarray
            Shape (batch, 20): the known set of each window (1 for a known residue).
        efficiency : numpy.ndarray
            Shape (batch,): the detection efficiency of each window.

        Returns
        -------
        numpy.ndarray
            Shape (batch, length, 20) log-scores in
            :data:`~protlm.models.alphabet.AMINO_ACIDS` order.
        """
        ...


class ModelBackend:
    """protlm's transformer as a backend.

    Parameters
    ----------
    model : SequencerModel
    name : str
    device : torch.device or str

    Examples
    --------
    >>> from protlm.models.sequencer_model import SequencerModel
    >>> b = ModelBackend(SequencerModel(d_model=16, n_layers=1, n_heads=2, d_ff=32, max_len=32))
    >>> b.max_len
    32
    """

    def __init__(self, model, *, name="protlm-sequencer", device="cpu", metadata=None):
        import torch

        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.name = name
        self.max_len = int(model.max_len)
        self.metadata = dict(metadata or {})

    @classmethod
    def from_weights(cls, path=None, *, device="auto"):
        """Load weights (``None``: the shipped default model; see :mod:`protlm.models.sequencer`)."""
        from protlm.models.device import resolve_device
        from protlm.models.sequencer import load_sequencer

        dev = resolve_device(device)
        model, meta = load_sequencer(path, device=dev)
        return cls(model, name=meta.get("name", "protlm-sequencer"), device=dev, metadata=meta)

    def window_logits(self, tokens, known, efficiency):
        """Log-probabilities from the model (log-softmax over the 20 residues), as a numpy array.

        Runs under ``torch.inference_mode`` on the backend's device; arguments
        and result as in :meth:`SequencerBackend.window_logits`.
        """
        import torch

        with torch.inference_mode():
            t = torch.as_tensor(np.ascontiguousarray(tokens, dtype=np.int64), device=self.device)
            k = torch.tensor(np.asarray(known, dtype=np.float32), device=self.device)
            e = torch.tensor(np.asarray(efficiency, dtype=np.float32), device=self.device)
            return torch.log_softmax(self.model(t, k, e).float(), dim=-1).cpu().numpy()


def residue_frequencies(sequences) -> np.ndarray:
    """Frequencies of the 20 residues over ``sequences`` (other letters ignored).

    Parameters
    ----------
    sequences : iterable of str
        Protein sequences.

    Returns
    -------
    numpy.ndarray
        Shape (20,) float64 in :data:`~protlm.models.alphabet.AMINO_ACIDS`
        order, summing to 1 (all zeros when there is no standard residue).

    Examples
    --------
    >>> residue_frequencies(["AAC"]).round(3)[:2].tolist()
    [0.667, 0.333]
    """
    counts = np.zeros(20, dtype=np.float64)
    for s in sequences:
        idx = encode_residues(s)
        counts += np.bincount(idx[idx >= 0], minlength=20)
    return counts / max(counts.sum(), 1.0)


class FrequencyBackend:
    """Context-free backend: the same log-frequencies at every position.

    Through the constrained decoder, its prediction at every ``X`` is the most
    frequent residue allowed there (at ``e = 1``: the most frequent residue
    outside the known set).

    Examples
    --------
    >>> b = FrequencyBackend(residue_frequencies(["LLLA"]))
    >>> b.window_logits(np.zeros((1, 3), dtype=np.int64), np.zeros((1, 20)), np.ones(1)).shape
    (1, 3, 20)
    """

    def __init__(self, frequencies, *, name="most-frequent"):
        freq = np.asarray(frequencies, dtype=np.float64)
        if freq.shape != (20,):
            raise ValueError(f"need 20 frequencies (order {AMINO_ACIDS}), got shape {freq.shape}")
        with np.errstate(divide="ignore"):
            self.log_freq = np.log(freq / freq.sum()).astype(np.float32)
        self.name = name
        self.max_len = 1 << 20
        self.device = "cpu"

    def window_logits(self, tokens, known, efficiency):
        """The log-frequencies at every position (``known`` and ``efficiency`` are ignored).

        Arguments and result as in :meth:`SequencerBackend.window_logits`; the
        result is a read-only broadcast view of shape ``(*tokens.shape, 20)``.
        """
        tokens = np.asarray(tokens)
        return np.broadcast_to(self.log_freq, (*tokens.shape, 20))
