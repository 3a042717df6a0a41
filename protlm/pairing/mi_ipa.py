"""MI-IPA: iterative pairing of interacting paralogs by pointwise mutual information.

The method of Bitbol (2018), "Inferring interaction partners from protein
sequences using mutual information", PLoS Comput Biol 14:e1006401:

1. From a *training set* of concatenated pairs, estimate the pointwise mutual
   information ``PMI[i, j, a, b] = log f_ij(a, b) / (f_i(a) f_j(b))`` between
   every left column ``i`` and right column ``j``, with sequences reweighted
   (weight ``1 / #neighbours``, a neighbour being a training pair whose
   concatenated sequence differs at fewer than ``theta`` of its columns) and a
   pseudocount ``pseudocount`` mixed with uniform frequencies.  Gaps get a PMI
   of 0.
2. Score every candidate pair inside each species by the sum of the PMIs of its
   residues over all (left column, right column) couples, and assign the
   pairs of each species by the Hungarian algorithm (maximum total score).
3. Rank the assigned pairs by a confidence *gap*: how much the species' total
   score drops when that pair is forbidden (the best alternative assignment).
4. The next training set is the known pairs plus the ``n`` most confident
   predicted pairs, ``n`` growing by ``n_increment`` each round, until every
   pair is in it.  Without known pairs, the first training set is a random
   within-species pairing (the paper's "MI-IPA without training set").

This implementation is vectorised: residues are one-hot encoded (only the
(column, residue) states that occur), so the training counts and all
candidate scores are matrix products; the gaps of all pairs of a species come
from one all-pairs shortest-path computation over alternating cycles instead
of one Hungarian solve per pair; neighbour counts for the weights only look at
left sequences already within the distance threshold.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

import numpy as np

from protlm.errors import PairingInputError
from protlm.pairing._blocks import (
    blocks_from_paired,
    blocks_from_species,
    build_result,
    ortholog_pairs,
    random_matching,
    resolve_known_pairs,
    routes,
)
from protlm.pairing.result import PairingResult

__all__ = ["pair_mi_ipa", "pair_mi_ipa_arrays", "encode_residues", "pmi_scores", "DEFAULT_N_INCREMENT"]

log = logging.getLogger(__name__)

#: Pairs added to the training set per round, as in the MI-IPA paper.
DEFAULT_N_INCREMENT = 6

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


def square_costs(scores: np.ndarray) -> np.ndarray:
    """Square cost matrix (minus the scores) padded with zeros for a rectangular block."""
    m = max(scores.shape)
    cost = np.zeros((m, m))
    cost[: scores.shape[0], : scores.shape[1]] = -scores
    return cost


def assign_blocks(costs: list, rng: np.random.Generator) -> list:
    """Hungarian assignment of each square cost matrix, ties broken at random.

    Returns ``sigma`` per matrix: row ``i`` is assigned column ``sigma[i]``.
    """
    from scipy.optimize import linear_sum_assignment

    sigmas = []
    for c in costs:
        m = c.shape[0]
        pr, pc = rng.permutation(m), rng.permutation(m)  # random conjugation breaks ties at random
        r, col = linear_sum_assignment(c[np.ix_(pr, pc)])
        sigma = np.empty(m, dtype=np.int64)
        sigma[pr[r]] = pc[col]
        sigmas.append(sigma)
    return sigmas


def _assign_with_gaps(costs: list, rng: np.random.Generator):
    """Optimal assignment of each square cost matrix and the gap of every assigned pair.

    The gap of pair ``(i, sigma(i))`` is the increase in total cost of the best
    assignment that does not use it.  Any such assignment differs from the
    optimum by alternating cycles; the best one by a single cycle through
    ``i``, so the gap is the cheapest cycle ``i -> l -> ... -> i`` in the graph
    whose edge ``k -> l`` (k takes l's partner) costs
    ``C[k, sigma(l)] - C[k, sigma(k)]``.  No cycle is negative at the
    optimum, so Floyd-Warshall gives all these cycles at once.
    """
    sigmas = assign_blocks(costs, rng)
    gaps = [None] * len(costs)
    sizes = np.array([c.shape[0] for c in costs])
    for m in np.unique(sizes):  # one batched Floyd-Warshall per block size
        idx = np.nonzero(sizes == m)[0]
        cost = np.stack([costs[b] for b in idx])
        sig = np.stack([sigmas[b] for b in idx])
        own = np.take_along_axis(cost, sig[:, :, None], axis=2)  # C[k, sigma(k)]
        w = np.take_along_axis(cost, np.broadcast_to(sig[:, None, :], cost.shape), axis=2) - own
        diag = np.arange(m)
        dist = w.copy()
        dist[:, diag, diag] = 0.0
        for k in range(m):
            np.minimum(dist, dist[:, :, k, None] + dist[:, None, k, :], out=dist)
        w[:, diag, diag] = np.inf
        g = np.maximum(np.min(w + dist.transpose(0, 2, 1), axis=2), 0.0)
        for j, b in enumerate(idx):
            gaps[b] = g[j]
    return sigmas, gaps


def _mi_ipa_blocks(left, right, blocks, known: dict, *, seed, theta, pseudocount, n_increment, callback,
                   context=None):
    lc, rc = encode_residues(left), encode_residues(right)
    given = dict(known)
    orthologs = ortholog_pairs(blocks, known)
    known = {**known, **orthologs}  # orthologs first: paired directly, part of every training set
    n_context = 0
    if context is not None:  # context pairs: appended rows, in every training set, never reassigned
        n_context = len(context[0])
        ctx_l = np.arange(lc.shape[0], lc.shape[0] + n_context)
        ctx_r = np.arange(rc.shape[0], rc.shape[0] + n_context)
        lc, rc = np.concatenate([lc, context[0]]), np.concatenate([rc, context[1]])
    if not 0.0 <= theta < 1.0:
        raise PairingInputError(f"theta must be in [0, 1), got {theta}")
    if not 0.0 < pseudocount < 1.0:
        raise PairingInputError(f"pseudocount must be in (0, 1), got {pseudocount}")
    n_increment = DEFAULT_N_INCREMENT if n_increment is None else int(n_increment)
    if n_increment < 1:
        raise PairingInputError(f"n_increment must be >= 1, got {n_increment}")
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()

    known_right = set(known.values())
    free = []  # (block index, free left rows, free right rows)
    for k, b in enumerate(blocks):
        fl = np.array([r for r in b.left if int(r) not in known], dtype=np.int64)
        fr = np.array([r for r in b.right if int(r) not in known_right], dtype=np.int64)
        if len(fl) and len(fr):
            free.append((k, fl, fr))
    n_predict = sum(min(len(fl), len(fr)) for _, fl, fr in free)

    model = _PMIModel(lc, rc, theta=theta, pseudocount=pseudocount)
    known_l = np.fromiter(known.keys(), dtype=np.int64, count=len(known))
    known_r = np.fromiter(known.values(), dtype=np.int64, count=len(known))
    if n_context:
        known_l, known_r = np.concatenate([known_l, ctx_l]), np.concatenate([known_r, ctx_r])
    fl_cat = np.concatenate([fl for _, fl, _ in free]) if free else np.zeros(0, dtype=np.int64)
    xl_free = model.xl[fl_cat]
    xr_blocks = [model.xr[fr].T.copy() for _, _, fr in free]
    offsets = np.cumsum([0] + [len(fl) for _, fl, _ in free])

    if len(known_l):
        train_l, train_r = known_l, known_r
    else:
        start = {}
        for _, fl, fr in free:
            start.update(random_matching(fl, fr, rng))
        train_l = np.fromiter(start.keys(), dtype=np.int64, count=len(start))
        train_r = np.fromiter(start.values(), dtype=np.int64, count=len(start))
    if len(train_l) == 0:
        raise PairingInputError("MI-IPA needs at least one pair to train on")

    n_rounds = math.ceil(n_predict / n_increment) + 1 if n_predict else 0
    history = {"training_size": [], "meff": [], "changed": []}
    pairs_l = pairs_r = gaps = prev = None
    n_train_new = 0
    for rnd in range(n_rounds):
        pmi, meff = model.fit(train_l, train_r)
        a = xl_free @ pmi
        costs = []
        for j, (_, fl, fr) in enumerate(free):
            costs.append(square_costs(a[offsets[j]:offsets[j + 1]] @ xr_blocks[j]))
        sigma, gap = _assign_with_gaps(costs, rng)
        new_l, new_r, new_g = [], [], []
        for j, (_, fl, fr) in enumerate(free):
            real = sigma[j][: len(fl)] < len(fr)  # rows beyond the block, or matched to padding: unpaired
            new_l.append(fl[real])
            new_r.append(fr[sigma[j][: len(fl)][real]])
            new_g.append(gap[j][: len(fl)][real])
        new_l, new_r, new_g = np.concatenate(new_l), np.concatenate(new_r), np.concatenate(new_g)
        if prev is None:
            changed = len(new_l)
        else:
            changed = sum(1 for l_, r_ in zip(new_l.tolist(), new_r.tolist()) if prev.get(l_) != r_)
        pairs_l, pairs_r, gaps = new_l, new_r, new_g
        prev = dict(zip(pairs_l.tolist(), pairs_r.tolist()))
        history["training_size"].append(int(len(train_l)))
        history["meff"].append(meff)
        history["changed"].append(changed)
        if callback is not None:
            callback(rnd + 1, n_rounds)
        if rnd % 50 == 0 or rnd == n_rounds - 1:
            log.info("MI-IPA round %d/%d: training set %d pairs (Meff %.1f), %d assignments changed, %.1f s",
                     rnd + 1, n_rounds, len(train_l), meff, changed, time.perf_counter() - t0)
        # Next training set: known pairs + the most confident predictions (ties in random order).
        n_train_new = min(n_train_new + n_increment, len(pairs_l))
        shuffle = rng.permutation(len(gaps))
        order = shuffle[np.argsort(-gaps[shuffle], kind="stable")][:n_train_new]
        train_l = np.concatenate([known_l, pairs_l[order]])
        train_r = np.concatenate([known_r, pairs_r[order]])

    matchings = [dict() for _ in blocks]
    confidences = [dict() for _ in blocks]
    raw_gaps = {}
    block_of = {int(r): k for k, b in enumerate(blocks) for r in b.left}
    for lr, rr in known.items():
        matchings[block_of[lr]][lr] = rr
        confidences[block_of[lr]][lr] = 1.0
    if pairs_l is not None and len(pairs_l):
        from scipy.stats import rankdata

        pct = rankdata(gaps, method="average") / len(gaps)  # forced pairs (gap inf) rank first
        for lr, rr, g, p in zip(pairs_l.tolist(), pairs_r.tolist(), gaps.tolist(), pct.tolist()):
            matchings[block_of[lr]][lr] = rr
            confidences[block_of[lr]][lr] = p
            raw_gaps[lr] = g
    info = {
        "theta": theta,
        "pseudocount": pseudocount,
        "n_increment": n_increment,
        "n_rounds": n_rounds,
        "seed": seed,
        "n_known": len(given),
        "routes": routes(blocks, given, orthologs, n_context),
        "seconds": time.perf_counter() - t0,
        "gap": raw_gaps,
    }
    return matchings, confidences, history, info


def context_codes(context, n_left_columns: int, n_right_columns: int):
    """Residue codes (0..20) of the context pairs, row *k* of each side being pair *k*; ``None`` without context.

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
    """Species blocks, residue codes of both families and resolved known pairs of a PairedFamilies."""
    blocks = blocks_from_paired(paired)
    left = encode_residues(np.asarray(paired.left.array))
    right = encode_residues(np.asarray(paired.right.array))
    known = resolve_known_pairs(known_pairs, blocks, left_ids=paired.left.ids, right_ids=paired.right.ids,
                                n_left=left.shape[0], n_right=right.shape[0])
    return blocks, left, right, known


def pair_mi_ipa_arrays(left, right, left_species: Sequence, right_species: Sequence | None = None, *,
                       known_pairs=None, seed: int = 0, theta: float = 0.15, pseudocount: float = 0.15,
                       n_increment: int | None = None, left_ids=None, right_ids=None,
                       callback=None) -> PairingResult:
    """MI-IPA on plain arrays: alignments plus one species label per row.

    Parameters
    ----------
    left, right : array_like, shape (n_left, L_left) and (n_right, L_right)
        The two alignments (``uint8`` ASCII, characters, or codes 0..20; see
        :func:`encode_residues`).
    left_species, right_species : sequence
        Species of each row (``None``: left out).  ``right_species`` defaults
        to ``left_species`` (then both alignments need the same number of rows).
        Species may hold different numbers of left and right rows; the
        surplus stays unpaired.
    known_pairs : mapping or iterable of (left, right), optional
        Pairs known to interact (rows, or ids when ``left_ids``/``right_ids``
        are given).  They form the first training set, stay in every training
        set and are never reassigned.  Without them MI-IPA starts from a random
        within-species pairing.
    seed : int
        Seeds the random start and the random tie-breaking.
    theta : float
        Sequences closer than this fraction of differing columns count as
        neighbours when reweighting (0: no reweighting).
    pseudocount : float
        Weight of the uniform pseudocount in the frequencies.
    n_increment : int, optional
        Pairs added to the training set per round (default
        :data:`DEFAULT_N_INCREMENT`, the paper's 6).  The number of rounds is
        ``ceil(n_pairs / n_increment) + 1``.
    left_ids, right_ids : sequence of str, optional
        Identifiers put in the result (default: row numbers).
    callback : callable, optional
        Called as ``callback(round, n_rounds)`` after each round.

    Returns
    -------
    PairingResult
        ``method="mi-ipa"``, ``device="cpu"``.  ``confidence`` is the
        percentile rank, in (0, 1], of each pair's assignment-cost gap among
        the predicted pairs (1 = most confident; known pairs get 1), so it is
        informative in a single run; ``agreement`` is NaN (one run);
        ``info["gap"]`` holds the raw gaps, ``history`` the
        training-set size, effective size and number of changed assignments
        per round.

    Raises
    ------
    PairingInputError
        No common species, bad known pairs or options.

    Examples
    --------
    Ten species of six paralogs whose right halves mirror their left halves
    (residue codes 1..3), so that the right partner is fully determined:

    >>> rng = np.random.default_rng(1)
    >>> left = rng.integers(1, 4, size=(60, 8))
    >>> right = left[:, ::-1].copy()
    >>> species = [f"sp{i // 6}" for i in range(60)]
    >>> r = pair_mi_ipa_arrays(left, right, species, seed=0)
    >>> r.precision({i: i for i in range(60)}), r.n_species
    (1.0, 10)
    """
    blocks = blocks_from_species(left_species, right_species)
    left, right = np.asarray(left), np.asarray(right)
    if len(left_species) != left.shape[0] or len(right_species if right_species is not None else left_species) != right.shape[0]:
        raise PairingInputError("need one species label per row on each side")
    known = resolve_known_pairs(known_pairs, blocks, left_ids=left_ids, right_ids=right_ids,
                                n_left=left.shape[0], n_right=right.shape[0])
    matchings, confidences, history, info = _mi_ipa_blocks(
        left, right, blocks, known, seed=seed, theta=theta, pseudocount=pseudocount,
        n_increment=n_increment, callback=callback)
    return build_result("mi-ipa", blocks, matchings, confidences, left_ids=left_ids, right_ids=right_ids,
                        history=history, info=info)


def pair_mi_ipa(paired, *, known_pairs=None, context=None, seed: int = 0, theta: float = 0.15,
                pseudocount: float = 0.15, n_increment: int | None = None, callback=None) -> PairingResult:
    """Pair two families inside each species by MI-IPA (Bitbol 2018).

    Parameters
    ----------
    paired : protlm.io.PairedFamilies
        The two families (aligned) and their species blocks.
    known_pairs : mapping or iterable of (left, right), optional
        Known interacting pairs, as rows of the two MSAs or as their ids.
    context : protlm.io.ContextPairs, optional
        Correctly paired rows of other species (e.g. ``paired.context``): the
        initial training set (no random start) and in every later one.
    seed, theta, pseudocount, n_increment, callback
        See :func:`pair_mi_ipa_arrays`.

    Notes
    -----
    Orthologs first: a species with one sequence on each side is paired
    directly and its pair is in every training set, like a known pair;
    ``info["routes"]`` counts the pairs of each route.

    Returns
    -------
    PairingResult
        ``method="mi-ipa"``, ids taken from the MSAs.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> rng = np.random.default_rng(1)
    >>> left = rng.integers(1, 4, size=(30, 8)); right = left.copy()
    >>> fam = NS(left=NS(array=left, ids=tuple(f"L{i}" for i in range(30))),
    ...          right=NS(array=right, ids=tuple(f"R{i}" for i in range(30))),
    ...          blocks=tuple(NS(species=f"s{k}", left=np.arange(6 * k, 6 * k + 6), right=np.arange(6 * k, 6 * k + 6))
    ...                       for k in range(5)))
    >>> r = pair_mi_ipa(fam, known_pairs=[("L0", "R0")], seed=0)
    >>> r.precision({i: i for i in range(30)}), float(r.confidence[0])
    (1.0, 1.0)
    """
    blocks, left, right, known = prepare_paired(paired, known_pairs)
    matchings, confidences, history, info = _mi_ipa_blocks(
        left, right, blocks, known, seed=seed, theta=theta, pseudocount=pseudocount,
        n_increment=n_increment, callback=callback,
        context=context_codes(context, left.shape[1], right.shape[1]))
    return build_result("mi-ipa", blocks, matchings, confidences, left_ids=paired.left.ids,
                        right_ids=paired.right.ids, history=history, info=info)
