"""Residue encoding and reweighted pair statistics of two aligned families: the PMI of MI-IPA.

The statistics half of :mod:`protlm.pairing.mi_ipa` (the iteration loop and the
API stay there), shared with the entropy bootstrap:

* residues are coded 0..20 (:func:`encode_residues`) and one-hot encoded over
  the (column, residue) states that occur (:func:`_features`, :func:`_one_hot`);
* weighted (left state, right state) counts of a training set of pairs are
  kept up to date by differences (:class:`_PairCounts`);
* training pairs are reweighted by their neighbours in concatenated sequence
  space (:class:`_Weights`), and the pointwise mutual information of every
  (left state, right state) couple follows (:func:`_pmi_matrix`,
  :class:`_PMIModel`);
* :class:`BlockScorer` sums the PMIs of every candidate pair inside each
  species block (compiled, :mod:`protlm.pairing._pmi_kernels`).
"""

from __future__ import annotations

import numpy as np

from protlm.errors import PairingInputError
from protlm.pairing._blocks import blocks_from_paired, resolve_known_pairs

__all__ = ["encode_residues", "pmi_scores", "context_codes", "prepare_paired", "BlockScorer"]

_AMINO = "ACDEFGHIKLMNPQRSTVWY"
_Q = 21  # 20 amino acids + gap (state 0)
_LUT = np.zeros(256, dtype=np.int8)
for _k, _a in enumerate(_AMINO, start=1):
    _LUT[ord(_a)] = _k
    _LUT[ord(_a.lower())] = _k


def encode_residues(array) -> np.ndarray:
    """Residue codes 0..20 (0 = gap or non-standard letter, 1..20 = ``ACDEFGHIKLMNPQRSTVWY``).

    Parameters
    ----------
    array : array_like, shape (n_sequences, n_columns)
        ``uint8`` ASCII codes (as in :attr:`protlm.io.MSA.array`), single
        characters (``S1``/``U1``), or integer codes already in 0..20.

    Returns
    -------
    numpy.ndarray of int8

    Raises
    ------
    PairingInputError
        Not two-dimensional, or integer codes outside 0..20.

    Examples
    --------
    >>> encode_residues(np.frombuffer(b"AC-Y", dtype=np.uint8).reshape(1, 4)).tolist()
    [[1, 2, 0, 20]]
    >>> encode_residues(np.array([["W", "x"]])).tolist()
    [[19, 0]]
    """
    arr = np.asarray(array)
    if arr.ndim != 2:
        raise PairingInputError(f"expected a 2-D alignment (sequences x columns), got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return _LUT[arr]
    if arr.dtype.kind in "SU":
        if arr.dtype.itemsize not in (1, 4) or (arr.dtype.kind == "U" and arr.dtype.itemsize != 4):
            raise PairingInputError("character arrays must hold one character per cell")
        flat = np.frombuffer("".join(arr.ravel().tolist()).encode("ascii", "replace"), dtype=np.uint8)
        return _LUT[flat].reshape(arr.shape)
    if arr.dtype.kind in "iu":
        if arr.size and (arr.min() < 0 or arr.max() >= _Q):
            raise PairingInputError(f"integer residue codes must be in 0..{_Q - 1}, got {arr.min()}..{arr.max()}")
        return arr.astype(np.int8)
    raise PairingInputError(f"cannot read residues from an array of dtype {arr.dtype}")


def _features(codes: np.ndarray, *, gaps: bool = False):
    """Index of each residue's (column, residue) state among the states that occur.

    Gaps get -1 unless ``gaps`` is true (then the gap is a state like any other).
    Returns ``(index, n_states)`` with ``index`` of shape ``codes.shape``.
    """
    n, length = codes.shape
    feat = np.arange(length, dtype=np.int64) * _Q + codes.astype(np.int64)
    counted = np.ones(codes.shape, dtype=bool) if gaps else codes > 0
    used = np.unique(feat[counted])
    lookup = np.full(length * _Q, -1, dtype=np.int64)
    lookup[used] = np.arange(len(used))
    index = np.where(counted, lookup[feat], -1)
    return index, len(used)


def _one_hot(index: np.ndarray, n_states: int) -> np.ndarray:
    """Dense one-hot matrix (rows x states) from :func:`_features` indices."""
    x = np.zeros((index.shape[0], n_states), dtype=np.float32)
    rows, cols = np.nonzero(index >= 0)
    x[rows, index[rows, cols]] = 1.0
    return x


class _PairCounts:
    """Weighted counts of (left state, right state) over the training pairs, updated by differences.

    Successive MI-IPA training sets share most of their pairs, so only pairs
    that enter, leave or change weight are added to / subtracted from the
    counts (a scatter of ``L_left x L_right`` entries per pair).
    """

    def __init__(self, left_index, n_left_states, right_index, n_right_states, n_right_rows, *,
                 left_onehot=None, right_onehot=None):
        self.li, self.ri = left_index, right_index
        self.dl, self.dr = n_left_states, n_right_states
        self.n_right_rows = n_right_rows
        self.xl, self.xr = left_onehot, right_onehot  # given: large updates are one matrix product
        self.all_valid = bool((left_index >= 0).all() and (right_index >= 0).all())
        self.counts = np.zeros(self.dl * self.dr)
        self.keys = np.zeros(0, dtype=np.int64)
        self.weights = np.zeros(0)

    def _scatter(self, rows_l, rows_r, delta, chunk=256):
        if len(rows_l) <= 64:
            # Within one pair every (left state, right state) couple is distinct: plain fancy adds.
            for lr, rr, d in zip(rows_l, rows_r, delta):
                fl, fr = self.li[lr], self.ri[rr]
                self.counts[(fl[fl >= 0][:, None] * self.dr + fr[fr >= 0][None, :]).ravel()] += d
            return
        if self.xl is not None and np.all(delta == np.round(delta)):
            # Integer weights (exact in float32): one matrix product of one-hot rows beats any scatter.
            wr = self.xr[rows_r] * delta.astype(np.float32)[:, None]
            self.counts += (self.xl[rows_l].T @ wr).ravel()
            return
        for s in range(0, len(rows_l), chunk):
            fl = self.li[rows_l[s:s + chunk]]
            fr = self.ri[rows_r[s:s + chunk]]
            pair = fl[:, :, None] * self.dr + fr[:, None, :]
            wts = np.broadcast_to(delta[s:s + chunk, None, None], pair.shape)
            if self.all_valid:
                pair, wts = pair.ravel(), wts.ravel()
            else:
                valid = (fl >= 0)[:, :, None] & (fr >= 0)[:, None, :]
                pair, wts = pair[valid], wts[valid]
            self.counts += np.bincount(pair, weights=wts, minlength=self.counts.size)

    def update(self, train_l, train_r, weights):
        keys = train_l * self.n_right_rows + train_r
        order = np.argsort(keys)
        keys, weights = keys[order], weights[order]
        union = np.union1d(self.keys, keys)
        new = np.zeros(len(union))
        new[np.searchsorted(union, keys)] = weights
        old = np.zeros(len(union))
        old[np.searchsorted(union, self.keys)] = self.weights
        delta = new - old
        changed = np.nonzero(delta != 0)[0]
        if len(changed):
            self._scatter(union[changed] // self.n_right_rows, union[changed] % self.n_right_rows, delta[changed])
        self.keys, self.weights = keys, weights
        return len(changed)

    def matrix(self):
        return self.counts.reshape(self.dl, self.dr)


def _close_pairs(codes: np.ndarray, max_mismatches: float, chunk: int = 1024):
    """Row pairs ``(a < b)`` of ``codes`` with fewer than ``max_mismatches`` mismatches."""
    n, length = codes.shape
    oh = np.zeros((n, length * _Q), dtype=np.float32)
    oh[np.repeat(np.arange(n), length), (np.arange(length) * _Q + codes.astype(np.int64)).ravel()] = 1.0
    ia, ib, dist = [], [], []
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        mism = length - oh[start:stop] @ oh[start:].T
        a, b = np.nonzero(mism < max_mismatches)
        keep = b > a  # b is relative to `start`; a row and itself are not neighbours
        ia.append(a[keep] + start)
        ib.append(b[keep] + start)
        dist.append(np.rint(mism[a[keep], b[keep]]).astype(np.int32))
    return np.concatenate(ia), np.concatenate(ib), np.concatenate(dist)


class _Weights:
    """Reweighting of training pairs by neighbours in concatenated sequence space."""

    def __init__(self, left: np.ndarray, right: np.ndarray, theta: float):
        self.right = right
        self.threshold = theta * (left.shape[1] + right.shape[1])
        self.n_left = left.shape[0]
        if theta > 0:
            self.ca, self.cb, self.dl = _close_pairs(left, self.threshold)
        else:
            self.ca = self.cb = self.dl = np.zeros(0, dtype=np.int64)

    def __call__(self, train_left: np.ndarray, train_right: np.ndarray) -> np.ndarray:
        n = len(train_left)
        counts = np.zeros(n, dtype=np.int64)
        if len(self.ca):
            pos = np.full(self.n_left, -1, dtype=np.int64)
            pos[train_left] = np.arange(n)
            active = (pos[self.ca] >= 0) & (pos[self.cb] >= 0)
            ka, kb, dl = pos[self.ca[active]], pos[self.cb[active]], self.dl[active]
            for s in range(0, len(ka), 200_000):
                sl = slice(s, s + 200_000)
                dr = np.count_nonzero(self.right[train_right[ka[sl]]] != self.right[train_right[kb[sl]]], axis=1)
                close = dl[sl] + dr < self.threshold
                counts += np.bincount(ka[sl][close], minlength=n) + np.bincount(kb[sl][close], minlength=n)
        return 1.0 / (1.0 + counts)


def _single_counts(index, rows, weights, n_states):
    fl = index[rows]
    valid = fl >= 0
    return np.bincount(fl[valid], weights=np.broadcast_to(weights[:, None], fl.shape)[valid], minlength=n_states)


def _pmi_matrix(pair_counts, left_counts, right_counts, meff, pseudocount):
    """PMI between every left state and right state, from weighted counts."""
    scale = np.float32((1.0 - pseudocount) / meff)
    pij = pair_counts.astype(np.float32)
    pij *= scale
    pij += np.float32(pseudocount / _Q**2)
    np.maximum(pij, np.float32(pseudocount / _Q**2), out=pij)  # rounding of differences
    np.log(pij, out=pij)
    pi = (1.0 - pseudocount) * left_counts / meff + pseudocount / _Q
    pj = (1.0 - pseudocount) * right_counts / meff + pseudocount / _Q
    pij -= np.log(pi).astype(np.float32)[:, None]
    pij -= np.log(pj).astype(np.float32)[None, :]
    return pij


def pmi_scores(left, right, train_left, train_right, *, theta: float = 0.15, pseudocount: float = 0.15) -> np.ndarray:
    """Summed-PMI score of every (left row, right row) couple, from a training set.

    A building block of MI-IPA, exposed for analysis: ``scores[l, r]`` is
    ``sum_{i, j} PMI[i, j, left[l, i], right[r, j]]`` with PMIs estimated from
    the concatenated training pairs ``(train_left[k], train_right[k])``.

    Parameters
    ----------
    left, right : array_like, shape (n_left, L_left) and (n_right, L_right)
        Alignments, as accepted by :func:`encode_residues`.
    train_left, train_right : array of int
        Row indices of the training pairs (each row at most once).
    theta, pseudocount : float
        Reweighting distance threshold and pseudocount weight.

    Returns
    -------
    numpy.ndarray, shape (n_left, n_right)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> left = rng.integers(1, 21, size=(40, 5)); right = left.copy()   # right copies left: perfectly coupled
    >>> s = pmi_scores(left, right, np.arange(40), np.arange(40))
    >>> bool((s.argmax(axis=1) == np.arange(40)).mean() > 0.9)
    True
    """
    model = _PMIModel(encode_residues(left), encode_residues(right), theta=theta, pseudocount=pseudocount)
    pmi, _ = model.fit(np.asarray(train_left, dtype=np.int64), np.asarray(train_right, dtype=np.int64))
    return (model.xl @ pmi @ model.xr.T).astype(np.float64)


class _PMIModel:
    """Encoded families plus the reweighted PMI estimate from a training set of pairs."""

    def __init__(self, left_codes, right_codes, *, theta, pseudocount):
        self.pseudocount = pseudocount
        self.li, self.dl = _features(left_codes)
        self.ri, self.dr = _features(right_codes)
        self.xl, self.xr = _one_hot(self.li, self.dl), _one_hot(self.ri, self.dr)
        self.weigh = _Weights(left_codes, right_codes, theta)
        self.counts = _PairCounts(self.li, self.dl, self.ri, self.dr, right_codes.shape[0])

    def fit(self, train_l, train_r):
        """PMI matrix (left states x right states) and Meff of a training set."""
        w = self.weigh(train_l, train_r)
        self.counts.update(train_l, train_r, w)
        meff = float(w.sum())
        pmi = _pmi_matrix(self.counts.matrix(), _single_counts(self.li, train_l, w, self.dl),
                          _single_counts(self.ri, train_r, w, self.dr), meff, self.pseudocount)
        return pmi, meff


class BlockScorer:
    """Summed-PMI scores of every candidate pair inside each species block, for one PMI matrix after another.

    ``scores[l, r] = sum_i sum_j PMI[left_state(l, i), right_state(r, j)]``
    over the non-gap residues of left row ``l`` and right row ``r``.  The
    blocks are fixed when it is built (the free rows of each species); each
    call takes a new PMI matrix and returns one ``(n_left, n_right)`` float32
    matrix per block.  Compiled (numba): per block, each left row's PMI rows
    summed, then each candidate's sum over its right residues; the dense
    products ``X_left @ PMI @ X_right.T`` do
    ``L_right x 21`` times more work on one-hot rows.  The float32 sums run
    in a different order from a BLAS product, so scores agree with
    :func:`pmi_scores` to rounding (on HK-RR 575 and the deep HK-RR input, the
    pairs are those of the dense products).

    Parameters
    ----------
    left_index, right_index : numpy.ndarray of int
        State index of each residue (:func:`_features`; -1 = gap).
    blocks : sequence of (left rows, right rows)
        The candidate rows of each block.
    """

    def __init__(self, left_index, right_index, blocks):
        self.li = np.ascontiguousarray(left_index, dtype=np.int32)
        self.ri = np.ascontiguousarray(right_index, dtype=np.int32)
        self.shapes = [(len(fl), len(fr)) for fl, fr in blocks]
        empty = np.zeros(0, np.int64)
        self.lrows = np.concatenate([np.asarray(fl, dtype=np.int64) for fl, _ in blocks] or [empty])
        self.rrows = np.concatenate([np.asarray(fr, dtype=np.int64) for _, fr in blocks] or [empty])
        self.loff = np.cumsum([0] + [a for a, _ in self.shapes]).astype(np.int64)
        self.roff = np.cumsum([0] + [b for _, b in self.shapes]).astype(np.int64)
        self.ooff = np.cumsum([0] + [a * b for a, b in self.shapes]).astype(np.int64)

    def __call__(self, pmi: np.ndarray) -> list:
        from protlm.pairing._pmi_kernels import score_blocks

        out = np.empty(self.ooff[-1], dtype=np.float32)
        score_blocks(np.ascontiguousarray(pmi, dtype=np.float32), self.li, self.ri, self.lrows, self.rrows,
                     self.loff, self.roff, self.ooff, out)
        return [out[self.ooff[k]:self.ooff[k + 1]].reshape(shape) for k, shape in enumerate(self.shapes)]


def context_codes(context, n_left_columns: int, n_right_columns: int):
    """Residue codes (0..20) of the context pairs, row *k* of each side being pair *k*; ``None`` without context.

    Parameters
    ----------
    context
        ``protlm.io.ContextPairs`` or ``None``.
    n_left_columns
        Columns of the left family.
    n_right_columns
        Columns of the right family.

    Raises
    ------
    PairingInputError
        Context columns that are not the families' columns.
    """
    if context is None or not context.n_pairs:
        return None
    context.check_columns(n_left_columns, n_right_columns)
    return (encode_residues(np.asarray(context.left.array)[context.left_rows]),
            encode_residues(np.asarray(context.right.array)[context.right_rows]))


def prepare_paired(paired, known_pairs):
    """Species blocks, residue codes of both families and resolved known pairs of a PairedFamilies.

    Parameters
    ----------
    paired
        ``protlm.io.PairedFamilies`` to pair.
    known_pairs
        Known pairs (ids or row indices) or ``None``.
    """
    blocks = blocks_from_paired(paired)
    left = encode_residues(np.asarray(paired.left.array))
    right = encode_residues(np.asarray(paired.right.array))
    known = resolve_known_pairs(known_pairs, blocks, left_ids=paired.left.ids, right_ids=paired.right.ids,
                                n_left=left.shape[0], n_right=right.shape[0])
    return blocks, left, right, known

