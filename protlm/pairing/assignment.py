"""Per-species assignment for the weights-free methods: Hungarian solves with random tie-breaking, and gaps.

Each species block is a square cost matrix (rectangular blocks padded with
zeros, :func:`square_costs`); :func:`assign_blocks` solves each one (SciPy's
``linear_sum_assignment``); :func:`assign_with_gaps` adds, for every assigned
pair, how much the block's best total cost rises when that pair is forbidden
(MI-IPA's confidence).
"""

from __future__ import annotations

import numpy as np

__all__ = ["free_rows", "square_costs", "assign_blocks", "assign_with_gaps"]


def free_rows(blocks, fixed) -> list:
    """``(block index, free left rows, free right rows)`` of the blocks that still have rows to pair.

    ``fixed`` maps left rows to right rows already paired (known pairs, orthologs).

    Parameters
    ----------
    blocks
        Species blocks (``protlm.io.SpeciesBlock``).
    fixed
        ``{left row: right row}`` of pairs already made.

    Examples
    --------
    >>> from protlm.io import SpeciesBlock
    >>> [(k, l.tolist(), r.tolist()) for k, l, r in free_rows([SpeciesBlock("a", np.array([0, 1]), np.array([0, 1]))], {0: 1})]
    [(0, [1], [0])]
    """
    fixed_right = set(fixed.values())
    free = []
    for k, b in enumerate(blocks):
        fl = np.array([r for r in b.left if int(r) not in fixed], dtype=np.int64)
        fr = np.array([r for r in b.right if int(r) not in fixed_right], dtype=np.int64)
        if len(fl) and len(fr):
            free.append((k, fl, fr))
    return free


def square_costs(scores: np.ndarray) -> np.ndarray:
    """Square cost matrix (minus the scores) padded with zeros for a rectangular block.

    Parameters
    ----------
    scores
        ``(n_left, n_right)`` scores of one block; higher is better.
    """
    m = max(scores.shape)
    cost = np.zeros((m, m))
    cost[: scores.shape[0], : scores.shape[1]] = -scores
    return cost


def assign_blocks(costs: list, rng: np.random.Generator) -> list:
    """Hungarian assignment of each square cost matrix, ties broken at random.

    Returns ``sigma`` per matrix: row ``i`` is assigned column ``sigma[i]``.

    Parameters
    ----------
    costs
        Square cost matrices, one per block.
    rng
        Generator that breaks ties.
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


def assign_with_gaps(costs: list, rng: np.random.Generator):
    """Optimal assignment of each square cost matrix and the gap of every assigned pair.

    The gap of pair ``(i, sigma(i))`` is the increase in total cost of the best
    assignment that does not use it.  Any such assignment differs from the
    optimum by alternating cycles; the best one by a single cycle through
    ``i``, so the gap is the cheapest cycle ``i -> l -> ... -> i`` in the graph
    whose edge ``k -> l`` (k takes l's partner) costs
    ``C[k, sigma(l)] - C[k, sigma(k)]``.  No cycle is negative at the
    optimum, so Floyd-Warshall gives all these cycles at once.

    Parameters
    ----------
    costs
        Square cost matrices, one per block.
    rng
        Generator that breaks ties.
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

