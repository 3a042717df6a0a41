"""Entropy bootstrap: weights-free pairing by the two-body entropy of the paired alignment.

The objective is DiffPaSS's (Lupo et al., Bioinformatics 2024): the plug-in
two-body entropy ``H = -sum_{i, j, a, b} p_ij(a, b) log p_ij(a, b)`` summed over
every (left column ``i``, right column ``j``) couple of the paired alignment,
gaps included as a 21st state.  Within-species permutations leave the
single-column entropies unchanged, so a lower ``H`` means more mutual
information between the two families.  So is its bootstrap: repeatedly fix a
random subset of the current pairs (1, then more, up to all but one) and
re-pair the rest; keep the pairing of lowest ``H`` ever seen.

What differs from DiffPaSS is how the rest is re-paired.  DiffPaSS takes one
gradient step of a soft (Sinkhorn) permutation from the uniform one and reads
the hard permutation off it.  Here that step is done in closed form: at the
uniform soft permutation (each free left sequence paired with an even mixture
of its species' free right sequences) the derivative of ``H`` with respect to
pairing ``l`` with ``r`` is ``-(1 + sum_{i,j} log p_ij(l_i, r_j)) / N``, so the
best re-pairing of each species is a Hungarian assignment on
``sum_{i,j} log p_ij(l_i, r_j)``: matrix products on one-hot residues, no
autograd, no soft permutations.  That makes an iteration a few matrix products
instead of DiffPaSS's forward and backward passes through the
``L_left x L_right x 21 x 21`` count tensor.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from protlm.errors import PairingInputError
from protlm.pairing._blocks import build_result, ortholog_pairs, random_matching, routes
from protlm.pairing.assignment import assign_blocks, square_costs
from protlm.pairing.pmi import _features, _one_hot, _PairCounts, context_codes, encode_residues, prepare_paired
from protlm.pairing.result import PairingResult

__all__ = ["pair_entropy_bootstrap", "two_body_entropy", "DEFAULT_ITERATIONS"]

log = logging.getLogger(__name__)

#: Bootstrap iterations by default (fixed-set sizes spread evenly from 1 to N - 1).
DEFAULT_ITERATIONS = 200


def _entropy(counts: np.ndarray, n_pairs: int) -> float:
    p = counts[counts > 0] / n_pairs
    return float(-(p * np.log(p)).sum())


def two_body_entropy(left, right, pairs) -> float:
    """Plug-in two-body entropy of a paired alignment, summed over all column couples.

    Parameters
    ----------
    left, right : array_like
        The two alignments (see :func:`protlm.pairing.pmi.encode_residues`).
    pairs : mapping of int to int
        ``{left_row: right_row}``.

    Examples
    --------
    >>> left = np.array([[1], [2]]); right = np.array([[1], [2]])
    >>> round(two_body_entropy(left, right, {0: 0, 1: 1}), 4)   # two equally likely couples: log 2
    0.6931
    """
    lc, rc = encode_residues(left), encode_residues(right)
    li, dl = _features(lc, gaps=True)
    ri, dr = _features(rc, gaps=True)
    counts = _PairCounts(li, dl, ri, dr, rc.shape[0])
    tl = np.fromiter(pairs.keys(), dtype=np.int64, count=len(pairs))
    tr = np.fromiter(pairs.values(), dtype=np.int64, count=len(pairs))
    counts.update(tl, tr, np.ones(len(tl)))
    return _entropy(counts.counts, len(tl))


def pair_entropy_bootstrap(paired, *, known_pairs=None, context=None, seed: int = 0, n_iterations: int | None = None,
                           n_restarts: int = 1, callback=None) -> PairingResult:
    """Pair two families inside each species by minimising their two-body entropy.

    Parameters
    ----------
    paired : protlm.io.PairedFamilies
        The two aligned families and their species blocks.
    known_pairs : mapping or iterable of (left, right), optional
        Known interacting pairs (rows or ids): fixed at every iteration.
        Orthologs first: a species with one sequence on each side is paired
        directly and fixed likewise (``info["routes"]`` counts each route).
    context : protlm.io.ContextPairs, optional
        Correctly paired rows of other species (e.g. ``paired.context``):
        fixed statistics, counted in the two-body frequencies at every
        iteration, never re-paired and not in the result.
    seed : int
        Seeds the random start, the random fixed subsets and tie-breaking.
    n_iterations : int, optional
        Bootstrap iterations (default :data:`DEFAULT_ITERATIONS`), at most one
        per fixed-set size ``1 .. N - 1`` (a larger value means every size,
        as DiffPaSS's default bootstrap).
    n_restarts : int
        Independent bootstraps (seeds ``[seed, k]``); the one reaching the
        lowest entropy is kept.  The objective chooses, never the truth.
    callback : callable, optional
        Called as ``callback(iteration, n_restarts * n_iterations)``.

    Returns
    -------
    PairingResult
        ``method="entropy-bootstrap"``: the pairing of lowest two-body entropy
        over the bootstrap.  ``confidence`` = fraction of the kept restart's
        iterations whose pairing contains the pair (known pairs: 1), in [0, 1]
        and informative in a single run (on HK-RR 575, seed 0: precision 0.09
        in the lowest decile, 0.95 in the highest); ``agreement`` = fraction of
        the ``n_restarts`` lowest-entropy pairings that contain it (NaN with
        one restart); ``history["entropy"]`` per iteration;
        ``info["best_iteration"]``, ``info["best_entropy"]``.

    Examples
    --------
    Ten species of six paralogs whose right halves mirror their left halves:

    >>> from types import SimpleNamespace as NS
    >>> rng = np.random.default_rng(1)
    >>> left = rng.integers(1, 4, size=(60, 8)); right = left[:, ::-1].copy()
    >>> fam = NS(left=NS(array=left, ids=tuple(map(str, range(60)))), right=NS(array=right, ids=tuple(map(str, range(60)))),
    ...          blocks=tuple(NS(species=f"s{k}", left=np.arange(6 * k, 6 * k + 6), right=np.arange(6 * k, 6 * k + 6))
    ...                       for k in range(10)))
    >>> r = pair_entropy_bootstrap(fam, seed=0, n_iterations=30)
    >>> r.precision({i: i for i in range(60)})
    1.0
    """
    n_iterations = DEFAULT_ITERATIONS if n_iterations is None else int(n_iterations)
    if n_iterations < 1:
        raise PairingInputError(f"n_iterations must be >= 1, got {n_iterations}")
    blocks, lc, rc, given = prepare_paired(paired, known_pairs)
    orthologs = ortholog_pairs(blocks, given)
    known = {**given, **orthologs}
    n_input_left = lc.shape[0]
    ctx = context_codes(context, lc.shape[1], rc.shape[1])
    n_context = 0
    if ctx is not None:  # context rows appended; their pairs are fixed like known pairs, and left out of the result
        n_context = len(ctx[0])
        known.update(zip(range(lc.shape[0], lc.shape[0] + n_context), range(rc.shape[0], rc.shape[0] + n_context)))
        lc, rc = np.concatenate([lc, ctx[0]]), np.concatenate([rc, ctx[1]])
    if n_restarts < 1:
        raise PairingInputError(f"n_restarts must be >= 1, got {n_restarts}")
    t0 = time.perf_counter()
    li, dl = _features(lc, gaps=True)
    ri, dr = _features(rc, gaps=True)
    xl, xr = _one_hot(li, dl), _one_hot(ri, dr)
    onehots = {"left_onehot": xl, "right_onehot": xr}
    hard = _PairCounts(li, dl, ri, dr, rc.shape[0], **onehots)   # counts of the current pairing
    fixed_counts = _PairCounts(li, dl, ri, dr, rc.shape[0], **onehots)

    def run(rng, restart):
        known_right = set(known.values())
        current = dict(known)
        for b in blocks:
            current.update(random_matching(np.array([r for r in b.left if int(r) not in known]),
                                           np.array([r for r in b.right if int(r) not in known_right]), rng))
        n_pairs = len(current)
        free_lefts = np.array(sorted(set(current) - set(known)), dtype=np.int64)
        if n_pairs == 0:
            raise PairingInputError("nothing to pair")

        def pairs_arrays(pairing):
            keys = np.fromiter(pairing.keys(), dtype=np.int64, count=len(pairing))
            return keys, np.fromiter((pairing[k] for k in keys.tolist()), dtype=np.int64, count=len(keys))

        hard.update(*pairs_arrays(current), np.ones(n_pairs))
        best = (_entropy(hard.counts, n_pairs), dict(current), -1)
        top = max(len(free_lefts) - 1, 1)
        sizes = np.unique(np.linspace(1, top, min(n_iterations, top)).astype(int))
        history = {"entropy": [], "n_fixed": []}
        trajectory = []
        for it, n_fix in enumerate(sizes):
            anchors = rng.permutation(free_lefts)[:n_fix] if len(free_lefts) > 1 else free_lefts[:0]
            fixed = dict(known)
            fixed.update({int(l): current[int(l)] for l in anchors})
            fixed_counts.update(*pairs_arrays(fixed), np.ones(len(fixed)))
            counts = fixed_counts.matrix().copy()
            # Free rows of each species: an even mixture over the species' free partners.
            fixed_r = set(fixed.values())
            frees, sums_l, sums_r, mix = [], [], [], []
            for b in blocks:
                ul = np.array([r for r in b.left if int(r) not in fixed], dtype=np.int64)
                ur = np.array([r for r in b.right if int(r) not in fixed_r], dtype=np.int64)
                if len(ul) and len(ur):
                    frees.append((ul, ur))
                    sums_l.append(xl[ul].sum(axis=0))
                    sums_r.append(xr[ur].sum(axis=0))
                    mix.append(1.0 / max(len(ul), len(ur)))
            if frees:
                counts += (np.array(sums_l).T * np.array(mix, dtype=np.float32)) @ np.array(sums_r)
                # Every candidate's own couples have positive counts, so the floor never reaches a score.
                logp = np.log(np.maximum(counts / n_pairs, 1e-30)).astype(np.float32)
                ul_all = np.concatenate([ul for ul, _ in frees])
                a = xl[ul_all] @ logp
                offsets = np.cumsum([0] + [len(ul) for ul, _ in frees])
                costs = [square_costs(a[offsets[j]:offsets[j + 1]] @ xr[ur].T) for j, (_, ur) in enumerate(frees)]
                new = dict(fixed)
                for (ul, ur), sigma in zip(frees, assign_blocks(costs, rng)):
                    real = sigma[: len(ul)] < len(ur)
                    new.update(zip(ul[real].tolist(), ur[sigma[: len(ul)][real]].tolist()))
                current = new
            hard.update(*pairs_arrays(current), np.ones(len(current)))
            h = _entropy(hard.counts, len(current))
            history["entropy"].append(h)
            history["n_fixed"].append(int(n_fix))
            trajectory.append(dict(current))
            if h < best[0]:
                best = (h, dict(current), it)
            if callback is not None:
                callback(restart * len(sizes) + it + 1, n_restarts * len(sizes))
            if it % 50 == 0 or it == len(sizes) - 1:
                log.info("entropy bootstrap (restart %d) %d/%d: %d fixed, entropy %.3f (best %.3f), %.1f s",
                         restart + 1, it + 1, len(sizes), n_fix, h, best[0], time.perf_counter() - t0)

        return best, trajectory, history, sizes

    runs = [run(np.random.default_rng([seed, k]) if n_restarts > 1 else np.random.default_rng(seed), k)
            for k in range(n_restarts)]
    chosen = min(range(n_restarts), key=lambda k: runs[k][0][0])  # lowest entropy wins
    best, trajectory, history, sizes = runs[chosen]
    history = dict(history, restart_entropy=[r[0][0] for r in runs])
    best_h, best_pairs, best_it = best
    block_of = {int(r): k for k, b in enumerate(blocks) for r in b.left}
    matchings = [dict() for _ in blocks]
    confidences = [dict() for _ in blocks]
    agreements = {}
    for l, r in best_pairs.items():
        if l >= n_input_left:
            continue  # a context pair
        matchings[block_of[l]][l] = r
        in_trajectory = 1.0 if l in known else sum(t.get(l) == r for t in trajectory) / max(len(trajectory), 1)
        confidences[block_of[l]][l] = in_trajectory
        if n_restarts > 1:
            agreements[l] = sum(run_[0][1].get(l) == r for run_ in runs) / n_restarts
    info = {"seed": seed, "n_iterations": len(sizes), "n_restarts": n_restarts, "best_restart": chosen,
            "best_iteration": best_it, "best_entropy": best_h,
            "n_known": len(given), "routes": routes(blocks, given, orthologs, n_context),
            "seconds": time.perf_counter() - t0}
    return build_result("entropy-bootstrap", blocks, matchings, confidences, agreements=agreements,
                        left_ids=paired.left.ids, right_ids=paired.right.ids, history=history, info=info)
