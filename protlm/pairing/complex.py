"""The rows of a paired complex: each chain's query, the pairs, and every other row unpaired, in A3M form.

What the ColabFold A3M (:func:`protlm.pairing.export.colabfold_a3m`) and the
structure-prediction inputs (:mod:`protlm.pairing.structure_inputs`) are built from.
"""

from __future__ import annotations

from dataclasses import dataclass

from protlm.errors import PairingInputError

__all__ = ["ComplexRows", "query_rows", "complex_rows"]


@dataclass(frozen=True)
class ComplexRows:
    """Which rows of the two chains go where in a structure-prediction input.

    Attributes
    ----------
    query : tuple of (int, int)
        Row of the query in the left and right MSA.
    pairs : tuple of (int, int)
        ``(left_row, right_row)`` of each pair, in the result's order (pairs
        holding a query row are left out: the queries are already paired).
    left_unpaired, right_unpaired : tuple of int
        Every other row of each chain, in input order.
    """

    query: tuple
    pairs: tuple
    left_unpaired: tuple
    right_unpaired: tuple


def _find_row(msa, wanted, side):
    if wanted is None:
        return 0
    if isinstance(wanted, int):
        if not 0 <= wanted < msa.n_sequences:
            raise PairingInputError(f"query row {wanted} is out of range for the {side} MSA ({msa.n_sequences} rows)")
        return wanted
    hits = [i for i, x in enumerate(msa.ids) if x == wanted]
    if len(hits) != 1:
        what = "is not" if not hits else f"occurs {len(hits)} times"
        raise PairingInputError(f"query {wanted!r} {what} in the {side} MSA (--query-{side} takes one row id)")
    return hits[0]


def query_rows(paired, *, query_left=None, query_right=None) -> tuple:
    """The query row of each chain, checked (called before any work by ``protlm pair``).

    Parameters
    ----------
    paired : PairedFamilies
    query_left, query_right : str or int, optional
        A row id or a 0-based row; default the first row (ColabFold/MMseqs2
        MSAs start with the query).

    Raises
    ------
    PairingInputError
        A query id that is absent or repeated, or a query row with no residue.

    Examples
    --------
    >>> from protlm.io import MSA, PairedFamilies
    >>> pf = PairedFamilies.from_msas(MSA.from_sequences(["AC", "AD"], ids=["q", "a_1"]),
    ...                               MSA.from_sequences(["KL", "KM"], ids=["q", "x_1"]), species_key="field:_:-1")
    >>> query_rows(pf), query_rows(pf, query_right="x_1")
    ((0, 0), (0, 1))
    >>> query_rows(pf, query_left="nope")
    Traceback (most recent call last):
    ...
    protlm.errors.PairingInputError: query 'nope' is not in the left MSA (--query-left takes one row id)
    """
    ql = _find_row(paired.left, query_left, "left")
    qr = _find_row(paired.right, query_right, "right")
    for msa, q, side in ((paired.left, ql, "left"), (paired.right, qr, "right")):
        if not msa.sequences[q].strip("-."):
            raise PairingInputError(f"the {side} query {msa.ids[q]!r} (row {q + 1}) has no residue")
    return ql, qr


def complex_rows(result, paired, *, query_left=None, query_right=None) -> ComplexRows:
    """Split the rows of both chains into query, pairs and unpaired rows.

    Parameters
    ----------
    result : PairingResult
    paired : PairedFamilies
    query_left, query_right : str or int, optional
        As in :func:`query_rows`.

    Examples
    --------
    >>> import numpy as np
    >>> from protlm.io import MSA, PairedFamilies
    >>> from protlm.pairing.result import PairingResult
    >>> pf = PairedFamilies.from_msas(MSA.from_sequences(["AC", "AD", "AE", "AF"], ids=["q", "a_1", "b_1", "c"]),
    ...                               MSA.from_sequences(["KL", "KM", "KN"], ids=["q", "x_1", "y_1"]), species_key="field:_:-1")
    >>> r = PairingResult(method="random", species=("1", "1"), left_rows=np.array([1, 2]), right_rows=np.array([2, 1]),
    ...                   left_ids=("a_1", "b_1"), right_ids=("y_1", "x_1"), confidence=np.array([0.5, 0.5]))
    >>> complex_rows(r, pf)
    ComplexRows(query=(0, 0), pairs=((1, 2), (2, 1)), left_unpaired=(3,), right_unpaired=())
    """
    ql, qr = query_rows(paired, query_left=query_left, query_right=query_right)
    pairs = tuple((int(l), int(r)) for l, r in zip(result.left_rows, result.right_rows)
                  if l >= 0 and r >= 0 and l != ql and r != qr)
    used_l = {l for l, _ in pairs} | {ql} | set(paired.excluded_left)
    used_r = {r for _, r in pairs} | {qr} | set(paired.excluded_right)
    return ComplexRows(
        (ql, qr),
        pairs,
        tuple(i for i in range(paired.left.n_sequences) if i not in used_l),
        tuple(i for i in range(paired.right.n_sequences) if i not in used_r),
    )


def _a3m_rows(msa, query_row):
    """``(sequence, rows)``: the query without gaps, and a function giving row ``i`` in A3M form against it."""
    seqs = msa.sequences
    q = seqs[query_row].replace(".", "-")
    gaps = [j for j, c in enumerate(q) if c == "-"]
    if not gaps:
        def row(i):
            return seqs[i].replace(".", "-").upper()
    else:
        gapset = set(gaps)

        def row(i):
            s = seqs[i].replace(".", "-")
            return "".join((c.lower() if c != "-" else "") if j in gapset else c.upper() for j, c in enumerate(s))
    return q.replace("-", "").upper(), row


def _a3m(entries) -> str:
    return "".join(f">{desc}\n{seq}\n" for desc, seq in entries)
