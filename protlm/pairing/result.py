"""The result of a pairing run, shared by every pairing method."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["PairingResult"]


@dataclass(frozen=True, eq=False)
class PairingResult:
    """Which left sequence pairs with which right sequence, inside each species.

    One entry per left sequence (and per right sequence left unpaired when its
    species block is larger on the right).  Row indices refer to the input
    MSAs; ``-1`` marks a sequence with no partner (matched to padding).

    Parameters
    ----------
    method : str
        ``"diffpalm"``, ``"mi-ipa"``, ``"random"``, ...
    species : sequence of str
        Species of each entry.
    left_rows, right_rows : array of int
        Row in the left / right MSA, ``-1`` when absent.
    left_ids, right_ids : sequence of str or None
        Identifiers of those rows (``None`` when absent).
    confidence : array of float
        In [0, 1]; for DiffPALM with several runs, the fraction of runs that
        agree with the final assignment.
    history : dict of str to list of float
        Per-step traces (e.g. ``"loss"``), for plots and reports.
    info : dict
        Method-specific details (options, seeds, per-run assignments).

    Examples
    --------
    >>> r = PairingResult(method="random", species=("a", "a"), left_rows=np.array([0, 1]),
    ...                   right_rows=np.array([1, 0]), left_ids=("L0", "L1"), right_ids=("R1", "R0"),
    ...                   confidence=np.array([0.5, 0.5]))
    >>> r.precision({0: 0, 1: 1})
    0.0
    >>> r.to_dataframe().shape
    (2, 6)
    """

    method: str
    species: tuple
    left_rows: np.ndarray
    right_rows: np.ndarray
    left_ids: tuple
    right_ids: tuple
    confidence: np.ndarray
    history: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.species)
        for name in ("left_rows", "right_rows", "left_ids", "right_ids", "confidence"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"PairingResult.{name} has {len(getattr(self, name))} entries, expected {n}")

    def __len__(self) -> int:
        return len(self.species)

    @property
    def n_pairs(self) -> int:
        """Number of entries where both sides are real sequences."""
        return int(np.sum((self.left_rows >= 0) & (self.right_rows >= 0)))

    @property
    def n_species(self) -> int:
        return len(set(self.species))

    def __repr__(self) -> str:
        return (
            f"PairingResult(method={self.method!r}, n_pairs={self.n_pairs}, "
            f"n_species={self.n_species}, mean_confidence={float(np.mean(self.confidence)) if len(self) else float('nan'):.3f})"
        )

    def mapping(self) -> dict:
        """``{left_row: right_row}`` for the real pairs."""
        return {int(l): int(r) for l, r in zip(self.left_rows, self.right_rows) if l >= 0 and r >= 0}

    def precision(self, truth: dict) -> float:
        """Correct pairs / left sequences paired, against ``{left_row: right_row}``.

        Left sequences absent from ``truth`` are not counted.
        """
        paired = [(l, r) for l, r in self.mapping().items() if l in truth]
        if not paired:
            return float("nan")
        return sum(truth[l] == r for l, r in paired) / len(paired)

    def to_dataframe(self):
        """One row per entry: species, left_id, right_id, left_row, right_row, confidence."""
        import pandas as pd

        return pd.DataFrame(
            {
                "species": list(self.species),
                "left_id": list(self.left_ids),
                "right_id": list(self.right_ids),
                "left_row": np.asarray(self.left_rows, dtype=int),
                "right_row": np.asarray(self.right_rows, dtype=int),
                "confidence": np.asarray(self.confidence, dtype=float),
            }
        )
