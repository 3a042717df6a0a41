"""Context pairs: correctly paired rows of other species that every pairing method may learn from.

Read from two context MSAs (same columns as the families being paired), row
*i* with row *i* or through a pairs file checked by the one validator
(:func:`protlm.io.pairs.resolve_pairs`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from protlm.errors import PairingInputError
from protlm.io.msa import MSA
from protlm.io.pairs import read_pairs_file, resolve_pairs

__all__ = ["ContextPairs", "read_context"]

_CONTEXT_SIDES = ("context left", "context right")


@dataclass(frozen=True, eq=False)
class ContextPairs:
    """Correctly paired rows of other species: what every pairing method may learn from.

    MI-IPA and the entropy bootstrap take them as their initial training set
    and as fixed statistics; DiffPALM prepends them to every sub-MSA as
    unmasked rows (the paper's "known pairs").  Their columns are those of
    the two families being paired.

    Attributes
    ----------
    left, right : MSA
        The context alignments (same columns as the left and right family).
    pairs : tuple of (int, int)
        ``(left_row, right_row)`` of each context pair.
    source : dict
        Where they came from (files, or ``"same-order"``).

    Examples
    --------
    >>> ctx = ContextPairs.from_msas(MSA.from_sequences(["AC", "AD"], ids=["a", "b"]),
    ...                              MSA.from_sequences(["KL", "KM"], ids=["x", "y"]))
    >>> ctx, ctx.pairs
    (ContextPairs(n_pairs=2, n_left=2, n_right=2), ((0, 0), (1, 1)))
    """

    left: MSA
    right: MSA
    pairs: tuple
    source: dict = field(default_factory=dict)

    @classmethod
    def from_msas(cls, left: MSA, right: MSA, *, pairs=None, source=None) -> "ContextPairs":
        """Context from two MSAs: row *i* with row *i* (``pairs=None``), a ``{left_row: right_row}`` dict or a pairs TSV.

        Raises
        ------
        PairingInputError
            MSAs of different lengths without ``pairs``, an unknown id or a row
            used twice in a pairs file (file and line named).
        """
        if pairs is None:
            if left.n_sequences != right.n_sequences:
                raise PairingInputError(
                    f"context: row i of one MSA pairs with row i of the other, but they hold {left.n_sequences} and "
                    f"{right.n_sequences} rows (give a pairs file, --context-pairs)")
            mapping = {i: i for i in range(left.n_sequences)}
        elif isinstance(pairs, Mapping):
            mapping = resolve_pairs(pairs, n_left=left.n_sequences, n_right=right.n_sequences, left_ids=left.ids,
                                    right_ids=right.ids, same_block=None, what="context pair", sides=_CONTEXT_SIDES)
        else:
            mapping = read_pairs_file(pairs, left_ids=left.ids, right_ids=right.ids, what="context pair",
                                      sides=_CONTEXT_SIDES)
        return cls(left, right, tuple(sorted(mapping.items())), dict(source or {}))

    @property
    def n_pairs(self) -> int:
        """Number of context pairs."""
        return len(self.pairs)

    @property
    def left_rows(self) -> np.ndarray:
        """Left-MSA row of each context pair (int64, in the order of :attr:`pairs`)."""
        return np.array([l for l, _ in self.pairs], dtype=np.int64)

    @property
    def right_rows(self) -> np.ndarray:
        """Right-MSA row of each context pair (int64, in the order of :attr:`pairs`)."""
        return np.array([r for _, r in self.pairs], dtype=np.int64)

    def check_columns(self, n_left: int, n_right: int, *, names=("left", "right")) -> None:
        """Refuse context alignments whose columns are not those of the families being paired."""
        for msa, n, name in ((self.left, n_left, names[0]), (self.right, n_right, names[1])):
            if msa.n_columns != n:
                raise PairingInputError(
                    f"{name}: the context MSA has {msa.n_columns} columns but the family it gives context for has {n}; "
                    "align the context to the same columns")

    def summary(self) -> dict:
        """Counts (``n_pairs``, ``n_left``, ``n_right`` rows) and the :attr:`source` fields, JSON-friendly."""
        return {"n_pairs": self.n_pairs, "n_left": self.left.n_sequences, "n_right": self.right.n_sequences,
                **self.source}

    def __repr__(self) -> str:
        return f"ContextPairs(n_pairs={self.n_pairs}, n_left={self.left.n_sequences}, n_right={self.right.n_sequences})"



def read_context(left, right, *, pairs=None) -> ContextPairs:
    """Read context MSAs (correctly paired rows of other species): row *i* with row *i*, or a pairs TSV.

    Parameters
    ----------
    left, right : str, os.PathLike or handle
        The context MSAs, in any format :func:`protlm.io.read_msa` reads.
    pairs : str, os.PathLike or handle, optional
        A TSV ``left_id<TAB>right_id`` of the context pairs; without it row *i*
        pairs with row *i*.

    Returns
    -------
    ContextPairs
        With ``source`` naming the files (``"<handle>"`` for a handle) and
        whether pairs came from ``"same-order"`` or a ``"file"``.

    Raises
    ------
    PairingInputError
        See :meth:`ContextPairs.from_msas`.

    Examples
    --------
    >>> import io
    >>> ctx = read_context(io.StringIO(">a\\nAC\\n>b\\nAD\\n"), io.StringIO(">x\\nKL\\n>y\\nKM\\n"))
    >>> ctx.pairs
    ((0, 0), (1, 1))
    """
    from protlm.io.general import read_msa

    names = [left, right] + ([pairs] if pairs is not None else [])
    source = {"files": [os.fspath(x) if isinstance(x, (str, os.PathLike)) else "<handle>" for x in names],
              "pairs": "same-order" if pairs is None else "file"}
    return ContextPairs.from_msas(read_msa(left), read_msa(right), pairs=pairs, source=source)
