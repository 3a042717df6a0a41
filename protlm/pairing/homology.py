"""Homology transfer from context pairs: how much a candidate pair looks like the known pairs of other species.

Context pairs (correctly paired rows of other species, :class:`protlm.io.ContextPairs`)
carry two kinds of signal.  MI-IPA uses the first: column statistics (PMI) of
all of them together.  The second is per pair: a left sequence that resembles
context left sequence ``k`` tends to pair with a right sequence that resembles
``k``'s partner (orthologs keep their partners).  The score of candidate
``(l, r)`` is a soft maximum over the context pairs::

    H[l, r] = (1 / beta) * log sum_k exp(beta * (s(l, L_k) + s(r, R_k)))

where ``s`` is the BLOSUM62 similarity per aligned column (a residue against
a gap 0, gap against gap 1), averaged over the columns.  ``beta`` sets how
sharp the maximum is: at ``beta = 10`` a pair ``0.1`` more similar per column
counts ``e`` times as much.  :func:`protlm.pairing.mi_ipa.pair_mi_ipa` adds
``H`` (scaled to the spread of the PMI scores) to its scores when given
context.  Tuned on validation species only (the benchmark's training species
split again, ``benchmarks/pairing_validation.py``); see the README section
"Context, known pairs and orthologs first".
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["DEFAULT_BETA", "DEFAULT_HOMOLOGY_WEIGHT", "context_homology_scores", "row_spread"]

#: Sharpness of the soft maximum over context pairs (per-column BLOSUM62 units).
DEFAULT_BETA = 10.0
#: Weight of the homology score against the PMI scores in MI-IPA with context (0 = PMI only).
DEFAULT_HOMOLOGY_WEIGHT = 1.0

_AA = "ACDEFGHIKLMNPQRSTVWY"  # residue codes 1..20 of protlm.pairing.pmi.encode_residues; 0 = gap


@functools.lru_cache(maxsize=1)
def _similarity_table() -> np.ndarray:
    """21 x 21 per-column similarity of residue codes: BLOSUM62, gap-gap 1, gap-residue 0 (read-only, cached)."""
    from Bio.Align import substitution_matrices

    b62 = substitution_matrices.load("BLOSUM62")
    table = np.zeros((21, 21), dtype=np.float32)
    for i, a in enumerate(_AA, start=1):
        for j, b in enumerate(_AA, start=1):
            table[i, j] = b62[a][b]
    table[0, 0] = 1.0
    table.flags.writeable = False
    return table


def _similarities(codes: np.ndarray, reference: np.ndarray, table: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """``(len(codes), len(reference))`` mean per-column similarity of two code arrays (same columns)."""
    n, n_columns = codes.shape
    offsets = np.arange(n_columns) * 21
    ref = table[reference.astype(np.int64)].reshape(len(reference), n_columns * 21)  # row k: table[R_k[c], :]
    out = np.empty((n, len(reference)), dtype=np.float32)
    for start in range(0, n, chunk):
        block = codes[start:start + chunk].astype(np.int64)
        one_hot = np.zeros((len(block), n_columns * 21), dtype=np.float32)
        one_hot[np.arange(len(block))[:, None], offsets + block] = 1.0
        out[start:start + chunk] = one_hot @ ref.T
    return out / max(n_columns, 1)


def similarity_kernel(codes, reference, *, beta: float) -> np.ndarray:
    """``exp(beta * (s(i, k) - max s))`` of every row against every reference row, float32, in (0, 1].

    The kernel of the homology score: ``log sum_k K_left[l, k] K_right[r, k]``
    over pairs ``(L_k, R_k)`` is ``beta * H(l, r)`` up to a constant (see the
    module docstring).  Entropy IPA uses it over the other species' current
    pairs (:mod:`protlm.pairing.entropy_ipa`).

    Parameters
    ----------
    codes, reference : numpy.ndarray of int
        Residue codes 0..20, the same columns.
    beta : float
        Sharpness (> 0), per-column BLOSUM62 units.

    Returns
    -------
    numpy.ndarray
        ``(len(codes), len(reference))``.

    Examples
    --------
    >>> from protlm.pairing.pmi import encode_residues
    >>> k = similarity_kernel(encode_residues(np.array([list("WWWW"), list("WWWF")])),
    ...                       encode_residues(np.array([list("WWWW"), list("KKKK")])), beta=1.0)
    >>> float(k[0, 0]), bool(k[1, 0] > k[1, 1])
    (1.0, True)
    """
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    x = _similarities(np.asarray(codes), np.asarray(reference), _similarity_table())
    if x.size:
        x -= x.max()
        x *= np.float32(beta)
        np.exp(x, out=x)
    return x


def context_homology_scores(left_codes, right_codes, context_left, context_right, blocks, *,
                            beta: float = DEFAULT_BETA) -> list:
    """Homology-transfer score of every candidate pair inside each block.

    Parameters
    ----------
    left_codes, right_codes : numpy.ndarray of int, shape (n_rows, n_columns)
        Residue codes 0..20 (:func:`protlm.pairing.pmi.encode_residues`) of the two families.
    context_left, context_right : numpy.ndarray of int
        Codes of the context pairs, row ``k`` of each side being pair ``k``, same columns as above.
    blocks : sequence of (left rows, right rows)
        The candidate rows of each block (e.g. the free rows of each species).
    beta : float
        Sharpness of the soft maximum over context pairs (> 0).

    Returns
    -------
    list of numpy.ndarray
        One ``(len(left rows), len(right rows))`` float64 matrix per block; higher = more alike known pairs.

    Examples
    --------
    Two context pairs, one per kind; a block holding one sequence of each kind on each side:

    >>> from protlm.pairing.pmi import encode_residues
    >>> enc = lambda *rows: encode_residues(np.array([list(r) for r in rows]))
    >>> ctx_l, ctx_r = enc("WWWW", "KKKK"), enc("CCCC", "DDDD")
    >>> left, right = enc("WWWF", "KKRK"), enc("DDDE", "CCCC")
    >>> h = context_homology_scores(left, right, ctx_l, ctx_r, [(np.array([0, 1]), np.array([0, 1]))])[0]
    >>> bool(h[0, 1] > h[0, 0]) and bool(h[1, 0] > h[1, 1])  # W-like with C-like, K-like with D-like
    True
    """
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    table = _similarity_table()
    rows_l = np.unique(np.concatenate([np.asarray(fl, dtype=np.int64) for fl, _ in blocks] or [np.zeros(0, np.int64)]))
    rows_r = np.unique(np.concatenate([np.asarray(fr, dtype=np.int64) for _, fr in blocks] or [np.zeros(0, np.int64)]))
    if len(context_left) == 0 or len(rows_l) == 0:
        return [np.zeros((len(fl), len(fr))) for fl, fr in blocks]
    sides = []
    for codes, rows, ctx in ((left_codes, rows_l, context_left), (right_codes, rows_r, context_right)):
        x = _similarities(np.asarray(codes)[rows], np.asarray(ctx), table).astype(np.float64)
        x *= beta
        top = x.max(axis=1, keepdims=True)
        x -= top
        np.exp(x, out=x)  # in place: memory of one (rows x context pairs) float64 matrix per side
        sides.append((x, top))
    (exp_a, max_a), (exp_b, max_b) = sides
    pos_l = {int(r): i for i, r in enumerate(rows_l)}
    pos_r = {int(r): i for i, r in enumerate(rows_r)}
    out = []
    for fl, fr in blocks:
        il = np.array([pos_l[int(r)] for r in fl], dtype=np.int64)
        ir = np.array([pos_r[int(r)] for r in fr], dtype=np.int64)
        total = exp_a[il] @ exp_b[ir].T  # summed over the context pairs; floored so that the log is finite
        out.append((np.log(np.maximum(total, 1e-300)) + max_a[il] + max_b[ir].T) / beta)
    return out


def row_spread(blocks) -> float:
    """Root mean square of the block scores about their row means (what an assignment can tell apart).

    Parameters
    ----------
    blocks : sequence of numpy.ndarray
        Score matrices, one per block; blocks of a single column carry no choice and are left out.

    Returns
    -------
    float
        0 when no block has two columns.

    Examples
    --------
    >>> row_spread([np.array([[1.0, 3.0], [0.0, 0.0]]), np.array([[5.0]])])
    0.7071067811865476
    """
    total, count = 0.0, 0
    for x in blocks:
        if x.shape[1] > 1:
            total += float(((x - x.mean(axis=1, keepdims=True)) ** 2).sum())
            count += x.size
    return (total / count) ** 0.5 if count else 0.0


def select_context_pairs(left_codes, right_codes, context_left, context_right, n: int) -> np.ndarray:
    """Indices of the ``n`` context pairs most alike the input, best first (for a context too deep to keep whole).

    A context pair scores the similarity of its left sequence to the closest
    input left sequence plus that of its right sequence to the closest input
    right sequence (mean BLOSUM62 per column, as in
    :func:`context_homology_scores`); ties keep the input order.

    Parameters
    ----------
    left_codes, right_codes : numpy.ndarray of int
        Residue codes 0..20 of the input's two families.
    context_left, context_right : numpy.ndarray of int
        Codes of the context pairs, row ``k`` of each side being pair ``k``.
    n : int
        How many to keep (>= 0).

    Returns
    -------
    numpy.ndarray of int

    Examples
    --------
    >>> from protlm.pairing.pmi import encode_residues
    >>> enc = lambda *rows: encode_residues(np.array([list(r) for r in rows]))
    >>> select_context_pairs(enc("WWWW"), enc("CCCC"), enc("KKKK", "WWWF", "WWWW"), enc("DDDD", "CCCC", "CCCA"), 2)
    array([2, 1])
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    table = _similarity_table()
    score = _similarities(np.asarray(context_left), np.asarray(left_codes), table).max(axis=1, initial=-np.inf)
    score += _similarities(np.asarray(context_right), np.asarray(right_codes), table).max(axis=1, initial=-np.inf)
    return np.argsort(-score, kind="stable")[:n]
