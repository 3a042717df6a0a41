"""Annealed soft re-pairing: the last stage of entropy IPA.

Entropy IPA's rounds (:mod:`protlm.pairing.entropy_ipa`) re-pair one species
at a time by a hard assignment, so a run settles in the first
self-consistent pairing it meets, and runs from different seeds settle in
different ones.  This stage starts from the runs' votes and lets every
species hold a *soft* pairing, a doubly stochastic matrix ``P_s``, while the
two scores are re-learnt from everyone's soft pairs:

* each pair ``(l, r)`` of another species counts with weight ``P[l, r]`` in
  the coevolution statistics (the PMI of MI-IPA, from weighted counts) and
  in the phylogeny score ``log sum_{l', r'} K_L[l, l'] P[l', r'] K_R[r, r']``
  (the homology-transfer kernels of :mod:`protlm.pairing.homology`);
* the coevolution score sums the PMIs of the ``top_column_pairs`` (left
  column, right column) pairs of highest APC-corrected mutual information,
  re-selected at every step from everyone's soft pairs (all column pairs:
  ``None``), so the many column pairs that carry only noise drop out;
* a species' scores come from the other species only, are standardised over
  its candidates and summed, the phylogeny weighted by ``phylogeny_weight``;
* every species then takes ``sinkhorn(scores / T)`` (:func:`~protlm.pairing.sinkhorn.log_sinkhorn`),
  damped: ``P <- (1 - damping) P + damping sinkhorn(...)``, all species at
  once, while ``T`` falls geometrically over ``temperatures`` (first, last);
* the caller assigns each species by a Hungarian matching of its last scores.

Known pairs, orthologs and context pairs keep weight 1 throughout.  The
defaults were chosen on the five validation sets of
``benchmarks/entropy_ipa_validation.py`` (HK-RR species outside the 575 set;
exploratory runs, mean precision): from the votes of five runs 0.7534 (the
votes alone) -> 0.789 (``T`` 2 -> 0.4, 30 steps, phylogeny weight 3),
0.785 from ``T`` 1, 0.781 / 0.784 with phylogeny weight 2 /
5; from one run 0.726 -> 0.762; keeping the pairs all five runs hold
(what :func:`~protlm.pairing.entropy_ipa.pair_entropy_ipa` does) 0.791
against 0.789 refining every pair.  Annealing from a uniform start instead of
the votes reached 0.715-0.744.  The column-pair selection was chosen the same
way (exploratory runs from cached runs): from five runs' votes 0.791 (all
column pairs) -> 0.793 / 0.798 / 0.797 / 0.793 (300 / 400 / 200 / 2000 pairs),
from seven runs' votes 0.797 -> 0.805 (300 pairs).  With the truth of the
other species, one re-pairing reaches 0.846 with all column pairs.  Under the
all-column-pair scores, the pairing found from five runs' votes scored higher
than the truth on every validation set (exploratory runs), so those scores, not
the search, bounded this stage; ``benchmarks/hkrr_575.py`` records the same
comparison for the default scores.
"""

from __future__ import annotations

import logging

import numpy as np

from protlm.pairing.pmi import _Q, _features, _one_hot, _pmi_matrix
from protlm.pairing.sinkhorn import log_sinkhorn

__all__ = ["DEFAULT_DAMPING", "DEFAULT_PHYLOGENY_WEIGHT", "DEFAULT_SOFT_STEPS", "DEFAULT_TEMPERATURES",
           "DEFAULT_TOP_COLUMN_PAIRS", "soft_refine", "top_column_mask", "vote_start"]

log = logging.getLogger(__name__)

#: Annealing steps (0: no refinement).
DEFAULT_SOFT_STEPS = 30
#: First and last temperature of the geometric schedule, in units of the standardised scores.
DEFAULT_TEMPERATURES = (2.0, 0.4)
#: Weight of the standardised phylogeny score beside the standardised coevolution score.
DEFAULT_PHYLOGENY_WEIGHT = 3.0
#: Fraction of each step's Sinkhorn matrix taken into the soft pairing.
DEFAULT_DAMPING = 0.5
#: (Left column, right column) pairs whose PMIs make the coevolution score (``None``: all).
DEFAULT_TOP_COLUMN_PAIRS = 300
_PSEUDOCOUNT = 0.15
_SINKHORN_ITERATIONS = 50


def _standardise(scores: np.ndarray) -> np.ndarray:
    sd = scores.std()
    return (scores - scores.mean()) / sd if sd > 0 else np.zeros_like(scores)


def _square_sinkhorn(logits: np.ndarray) -> np.ndarray:
    """Sinkhorn of a rectangular block padded to a square with logits 0 (an unpaired row or column)."""
    m = max(logits.shape)
    padded = np.zeros((m, m))
    padded[: logits.shape[0], : logits.shape[1]] = logits
    return log_sinkhorn(padded - padded.max(), _SINKHORN_ITERATIONS)[: logits.shape[0], : logits.shape[1]]


def _state_columns(index: np.ndarray, n_states: int) -> np.ndarray:
    """Column of each state, from the ``(index, n_states)`` of :func:`~protlm.pairing.pmi._features`."""
    columns = np.zeros(n_states, dtype=np.int64)
    rows, cols = np.nonzero(index >= 0)
    columns[index[rows, cols]] = cols
    return columns


def top_column_mask(counts, single_l, single_r, total, columns_l, columns_r, shape, k) -> np.ndarray:
    """State-level 0/1 mask of the ``k`` column pairs of highest APC-corrected mutual information.

    Parameters
    ----------
    counts, single_l, single_r, total
        Weighted (left state, right state) counts, left and right state
        counts and the total weight of the pairs (as for
        :func:`~protlm.pairing.pmi._pmi_matrix`).
    columns_l, columns_r : numpy.ndarray of int
        Column of each left and right state (:func:`_state_columns`).
    shape : (int, int)
        Columns of the left and right alignments.
    k : int
        Column pairs kept (all when ``k`` is at least their number).

    Returns
    -------
    numpy.ndarray
        ``(left states, right states)``, float32: 1 where both states' columns
        form a kept pair.

    Examples
    --------
    Column 0 of the left copies column 1 of the right; with ``k = 1`` only that pair is kept:

    >>> from protlm.pairing.pmi import _features, _one_hot
    >>> rng = np.random.default_rng(0)
    >>> left = rng.integers(1, 21, size=(200, 3))
    >>> right = rng.integers(1, 21, size=(200, 2))
    >>> right[:, 1] = left[:, 0]
    >>> (li, dl), (ri, dr) = _features(left), _features(right)
    >>> xl, xr = _one_hot(li, dl), _one_hot(ri, dr)
    >>> cl, cr = _state_columns(li, dl), _state_columns(ri, dr)
    >>> m = top_column_mask(xl.T @ xr, xl.sum(0), xr.sum(0), 200.0, cl, cr, (3, 2), 1)
    >>> sorted({(int(cl[u]), int(cr[v])) for u, v in zip(*np.nonzero(m))})
    [(0, 1)]
    """
    n_l, n_r = shape
    if k >= n_l * n_r:
        return np.ones((len(columns_l), len(columns_r)), dtype=np.float32)
    pmi = _pmi_matrix(counts, np.maximum(single_l, 0), np.maximum(single_r, 0), total, _PSEUDOCOUNT)
    joint = (1.0 - _PSEUDOCOUNT) * np.maximum(counts, 0) / total + _PSEUDOCOUNT / _Q**2
    pair = (columns_l[:, None] * n_r + columns_r[None, :]).ravel()  # column pair of each state pair
    mi = np.bincount(pair, weights=(joint * pmi).ravel(), minlength=n_l * n_r).reshape(n_l, n_r)
    mean = mi.mean()
    if mean > 0:  # average product correction (Dunn et al. 2008)
        mi = mi - np.outer(mi.mean(axis=1), mi.mean(axis=0)) / mean
    keep = np.zeros(n_l * n_r, dtype=bool)
    keep[np.argsort(mi.ravel(), kind="stable")[-int(k):]] = True
    keep = keep.reshape(n_l, n_r)
    return keep[np.ix_(columns_l, columns_r)].astype(np.float32)


def vote_start(free, runs_pairs, *, floor: float = 1e-3) -> list:
    """Start matrices of :func:`soft_refine`: each free block's run votes (plus ``floor``), made doubly stochastic.

    Parameters
    ----------
    free : list of (int, numpy.ndarray, numpy.ndarray)
        ``(block, free left rows, free right rows)``
        (:func:`~protlm.pairing.assignment.free_rows`).
    runs_pairs : list of dict
        Each run's ``{left row: right row}``.
    floor : float
        Weight of a pair no run holds.

    Returns
    -------
    list of numpy.ndarray
        One ``(len(left rows), len(right rows))`` matrix per free block.

    Examples
    --------
    >>> m = vote_start([(0, np.array([0, 1]), np.array([0, 1]))], [{0: 0, 1: 1}, {0: 0, 1: 1}, {0: 1, 1: 0}])
    >>> bool(m[0][0, 0] > 0.6), [round(float(v), 3) for v in m[0].sum(1)]
    (True, [1.0, 1.0])
    """
    out = []
    for _, fl, fr in free:
        col = {int(r): j for j, r in enumerate(fr.tolist())}
        votes = np.full((len(fl), len(fr)), float(floor))
        for pairs in runs_pairs:
            for i, l in enumerate(fl.tolist()):
                j = col.get(pairs.get(l, -1))
                if j is not None:
                    votes[i, j] += 1.0
        out.append(_square_sinkhorn(np.log(votes)))
    return out


def soft_refine(left_codes, right_codes, free, fixed, start, *, species_of_left, kernels,
                n_steps: int = DEFAULT_SOFT_STEPS, temperatures=DEFAULT_TEMPERATURES,
                phylogeny_weight: float = DEFAULT_PHYLOGENY_WEIGHT, damping: float = DEFAULT_DAMPING,
                top_column_pairs: int | None = DEFAULT_TOP_COLUMN_PAIRS, callback=None) -> list:
    """Anneal soft pairings of the free blocks from ``start``; return each block's last scores.

    Parameters
    ----------
    left_codes, right_codes : numpy.ndarray of int
        Residue codes (0..20) of all rows, context rows included.
    free : list of (int, numpy.ndarray, numpy.ndarray)
        ``(block, free left rows, free right rows)`` of the blocks to pair.
    fixed : dict
        ``{left row: right row}`` of pairs kept at weight 1 (known pairs,
        orthologs, context pairs).
    start : list of numpy.ndarray
        Each free block's start matrix (:func:`vote_start`).
    species_of_left : numpy.ndarray of int
        Block of each left row (-1: context): a block learns from the other
        blocks' pairs only.
    kernels : (numpy.ndarray, numpy.ndarray)
        Homology kernels of the left rows against the left rows, and of the
        right rows against the right rows
        (:func:`~protlm.pairing.homology.similarity_kernel`).
    n_steps : int
        Annealing steps (at least 1).
    temperatures : (float, float)
        First and last temperature.
    phylogeny_weight, damping : float
        See the module docstring.
    top_column_pairs : int or None
        Column pairs of the coevolution score, re-selected at each step
        (:func:`top_column_mask`; ``None``: all).
    callback : callable, optional
        ``callback(step, n_steps)`` after each step.

    Returns
    -------
    list of numpy.ndarray
        The standardised summed scores of each free block at the last step
        (higher is better), for its Hungarian assignment.

    Examples
    --------
    Eight species of three paralogs, from a flat start; each right row copies its left row, and every species
    ends paired right:

    >>> from scipy.optimize import linear_sum_assignment
    >>> rng = np.random.default_rng(3)
    >>> anc = rng.integers(1, 21, size=(3, 10))
    >>> left = np.concatenate([np.where(rng.random(anc.shape) < 0.2, rng.integers(1, 21, anc.shape), anc)
    ...                        for _ in range(8)])
    >>> right = left.copy()
    >>> free = [(k, np.arange(3 * k, 3 * k + 3), np.arange(3 * k, 3 * k + 3)) for k in range(8)]
    >>> from protlm.pairing.homology import similarity_kernel
    >>> kern = (similarity_kernel(left, left, beta=5.0), similarity_kernel(right, right, beta=5.0))
    >>> flat = [np.full((3, 3), 1 / 3) for _ in free]
    >>> s = soft_refine(left, right, free, {}, flat, species_of_left=np.repeat(np.arange(8), 3), kernels=kern)
    >>> sum(linear_sum_assignment(b, maximize=True)[1].tolist() == [0, 1, 2] for b in s)
    8
    """
    from scipy import sparse

    n_steps = int(n_steps)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if top_column_pairs is not None and int(top_column_pairs) < 1:
        raise ValueError(f"top_column_pairs must be >= 1 or None, got {top_column_pairs}")
    t_start, t_end = (float(t) for t in temperatures)
    li, dl = _features(left_codes)
    ri, dr = _features(right_codes)
    xl, xr = _one_hot(li, dl), _one_hot(ri, dr)
    kl, kr = kernels
    n_left, n_right = left_codes.shape[0], right_codes.shape[0]
    species = np.asarray(species_of_left)
    fixed_l = np.fromiter(fixed.keys(), dtype=np.int64, count=len(fixed))
    fixed_r = np.fromiter(fixed.values(), dtype=np.int64, count=len(fixed))
    soft = [np.asarray(m, dtype=np.float64).copy() for m in start]
    # the (left, right) coordinates of every soft entry, in block order, for one sparse matrix per step
    rows = np.concatenate([fixed_l] + [np.repeat(fl, len(fr)) for _, fl, fr in free])
    cols = np.concatenate([fixed_r] + [np.tile(fr, len(fl)) for _, fl, fr in free])
    used = [(np.nonzero(xl[fl].any(axis=0))[0], np.nonzero(xr[fr].any(axis=0))[0]) for _, fl, fr in free]
    # each block's own rows: its free rows and any fixed pair inside it (the block learns from the others only)
    own_fixed = [np.nonzero(species[fixed_l] == k)[0] for k, _, _ in free]
    scores = [np.zeros_like(m) for m in soft]
    columns = (_state_columns(li, dl), _state_columns(ri, dr))
    shape = (left_codes.shape[1], right_codes.shape[1])
    for step, temp in enumerate(np.geomspace(t_start, t_end, n_steps)):
        weights = np.concatenate([np.ones(len(fixed_l))] + [m.ravel() for m in soft])
        p = sparse.csr_matrix((weights, (rows, cols)), shape=(n_left, n_right))
        counts = xl.T @ np.asarray(p @ xr, dtype=np.float32)
        single_l = xl.T @ np.asarray(p.sum(axis=1)).ravel().astype(np.float32)
        single_r = xr.T @ np.asarray(p.sum(axis=0)).ravel().astype(np.float32)
        total = float(weights.sum())
        mask = None
        if top_column_pairs is not None and total > 0:
            mask = top_column_mask(counts, single_l, single_r, total, *columns, shape, int(top_column_pairs))
        for b, ((k, fl, fr), (ul, ur), of) in enumerate(zip(free, used, own_fixed)):
            own_l = np.concatenate([fl, fixed_l[of]])
            own_r = np.concatenate([fr, fixed_r[of]])
            own = np.zeros((len(own_l), len(own_r)))
            own[: len(fl), : len(fr)] = soft[b]
            own[np.arange(len(fl), len(own_l)), np.arange(len(fr), len(own_r))] = 1.0
            n = total - own.sum()
            if n <= 0:  # no other species: nothing to learn from
                scores[b] = np.zeros((len(fl), len(fr)))
                continue
            xo_l, xo_r = xl[np.ix_(own_l, ul)], xr[np.ix_(own_r, ur)]
            c = counts[np.ix_(ul, ur)] - xo_l.T @ (own @ xo_r)
            fl_c = single_l[ul] - xo_l.T @ own.sum(axis=1)
            fr_c = single_r[ur] - xo_r.T @ own.sum(axis=0)
            pmi = _pmi_matrix(c, np.maximum(fl_c, 0), np.maximum(fr_c, 0), n, _PSEUDOCOUNT)
            if mask is not None:
                pmi = pmi * mask[np.ix_(ul, ur)]
            coevolution = xl[np.ix_(fl, ul)] @ pmi @ xr[np.ix_(fr, ur)].T
            phylogeny = kl[fl] @ np.asarray(p @ kr[fr].T) - kl[np.ix_(fl, own_l)] @ own @ kr[np.ix_(fr, own_r)].T
            phylogeny = np.log(np.maximum(phylogeny, np.finfo(np.float32).tiny))
            scores[b] = (_standardise(coevolution.astype(np.float64))
                         + phylogeny_weight * _standardise(phylogeny.astype(np.float64)))
        for b in range(len(soft)):  # all blocks at once, from the same step's statistics
            soft[b] = (1.0 - damping) * soft[b] + damping * _square_sinkhorn(scores[b] / temp)
        log.debug("soft refinement step %d/%d at T = %.3f", step + 1, n_steps, temp)
        if callback is not None:
            callback(step + 1, n_steps)
    return scores
