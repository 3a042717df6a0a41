"""The result of a pairing run, shared by every pairing method."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["PairingResult", "CONFIDENCE_DEFINITIONS", "AGREEMENT_DEFINITION", "column_definitions"]

#: What ``confidence`` means for each method (a single run's per-pair score, in [0, 1]).
CONFIDENCE_DEFINITIONS = {
    "diffpalm": "fraction of the second half of a run's iterations whose hard assignment (on the noisy scores) "
                "chose the pair, mean over runs; known pairs 1",
    "mi-ipa": "percentile rank (0, 1] of the pair's assignment-cost gap (drop of the species' best total score "
              "when the pair is forbidden) among the predicted pairs; known pairs 1",
    "entropy-bootstrap": "fraction of the bootstrap iterations (of the kept restart) whose pairing holds the pair; "
                         "known pairs 1",
    "diffpass": "fraction of DiffPaSS's bootstrap iterations whose final hard pairing holds the pair",
    "random": "1 / max(left, right sequences) of the species: the chance that a random pair is right",
}

#: What ``agreement`` means, for every method.
AGREEMENT_DEFINITION = ("fraction of independent runs (diffpalm --runs, entropy-bootstrap restarts) whose pairing "
                        "holds the pair; empty (NaN) with a single run or a method without runs")

_PER_ENTRY = ("left_rows", "right_rows", "left_ids", "right_ids", "confidence", "agreement")


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
        Per-pair score of a single run, in [0, 1], higher = more likely right;
        NaN for unpaired entries.  Each method defines it (its docstring says
        how): DiffPALM the fraction of a run's late iterations whose hard
        assignment chose the pair, MI-IPA the percentile rank of its assignment-cost gap, the entropy
        bootstrap and DiffPaSS the fraction of bootstrap iterations whose
        pairing holds the pair, random ``1 / block size``.  Known pairs get 1.
    agreement : array of float, optional
        Fraction of independent runs (DiffPALM ``runs``, entropy-bootstrap
        ``n_restarts``) whose pairing holds the pair, in [0, 1]; NaN with a
        single run, for methods without runs, and for unpaired entries.
        Default: all NaN.
    history : dict of str to list of float
        Per-step traces (e.g. ``"loss"``), for plots and reports.
    info : dict
        Method-specific details (options, seeds, per-run assignments).
    device : str
        Where the method ran: ``"cpu"`` for the CPU-only methods, else the torch
        device (``"cuda:0"``, ...).

    Examples
    --------
    >>> r = PairingResult(method="random", species=("a", "a", "a"), left_rows=np.array([0, 1, 2]),
    ...                   right_rows=np.array([1, 0, -1]), left_ids=("L0", "L1", "L2"), right_ids=("R1", "R0", None),
    ...                   confidence=np.array([0.5, 0.5, np.nan]))
    >>> r.precision({0: 1, 1: 1, 2: 2}), r.recall({0: 1, 1: 1, 2: 2, 5: 5})
    (0.3333333333333333, 0.25)
    >>> r.to_dataframe().shape, r.device
    ((3, 7), 'cpu')
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
    agreement: np.ndarray | None = None
    device: str = "cpu"

    def __post_init__(self):
        n = len(self.species)
        if self.agreement is None:
            object.__setattr__(self, "agreement", np.full(n, np.nan))
        for name in _PER_ENTRY:
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
        """Number of distinct species among the entries."""
        return len(set(self.species))

    def __repr__(self) -> str:
        paired = (self.left_rows >= 0) & (self.right_rows >= 0)
        mean = float(np.mean(self.confidence[paired])) if paired.any() else float("nan")
        return (
            f"PairingResult(method={self.method!r}, n_pairs={self.n_pairs}, "
            f"n_species={self.n_species}, mean_confidence={mean:.3f}, device={self.device!r})"
        )

    def mapping(self) -> dict:
        """``{left_row: right_row}`` for the real pairs."""
        return {int(l): int(r) for l, r in zip(self.left_rows, self.right_rows) if l >= 0 and r >= 0}

    def n_correct(self, truth: dict) -> int:
        """Number of pairs of ``truth`` (``{left_row: right_row}``) that this result makes."""
        mapping = self.mapping()
        return sum(mapping.get(int(l)) == int(r) for l, r in truth.items())

    def precision(self, truth: dict) -> float:
        """Correct pairs / left sequences with a true partner, against ``{left_row: right_row}``.

        The denominator counts every left sequence of the result that ``truth``
        gives a partner, paired or not: a true pair the method left unpaired
        (its left sequence matched to padding) counts as wrong.  Left sequences
        absent from ``truth`` are not counted.  NaN when none is in ``truth``.
        """
        scored = {int(l) for l in self.left_rows if l >= 0 and int(l) in truth}
        if not scored:
            return float("nan")
        return self.n_correct({l: truth[l] for l in scored}) / len(scored)

    def recall(self, truth: dict) -> float:
        """Correct pairs / true pairs: the fraction of ``truth`` that the result recovers.

        Unlike :meth:`precision`, the denominator is every pair of ``truth``,
        also those whose left sequence is not in the result (a species absent
        from one family, an excluded row).  Equal to the precision when every
        left sequence of ``truth`` is an entry of the result.  NaN for an
        empty ``truth``.
        """
        return self.n_correct(truth) / len(truth) if truth else float("nan")

    def to_dataframe(self):
        """One row per entry: species, left_id, right_id, left_row, right_row, confidence, agreement."""
        import pandas as pd

        return pd.DataFrame(
            {
                "species": list(self.species),
                "left_id": list(self.left_ids),
                "right_id": list(self.right_ids),
                "left_row": np.asarray(self.left_rows, dtype=int),
                "right_row": np.asarray(self.right_rows, dtype=int),
                "confidence": np.asarray(self.confidence, dtype=float),
                "agreement": np.asarray(self.agreement, dtype=float),
            }
        )


def column_definitions(method: str) -> dict:
    """What each column of ``pairs.tsv`` holds, for a result of ``method`` (recorded in ``report.json``).

    Parameters
    ----------
    method : str
        The method that made the result (``"diffpalm"``, ``"mi-ipa"``, ...).

    Examples
    --------
    >>> column_definitions("random")["confidence"].split(";")[0]
    '1 / max(left, right sequences) of the species: the chance that a random pair is right'
    """
    return {
        "species": "species key shared by the two sequences",
        "left_id": "left sequence (empty: a right sequence left unpaired)",
        "right_id": "right sequence (empty: a left sequence left unpaired)",
        "confidence": CONFIDENCE_DEFINITIONS.get(method, "per-pair score of the method, in [0, 1]")
                      + "; higher = more likely right; empty for unpaired entries",
        "agreement": AGREEMENT_DEFINITION,
    }

