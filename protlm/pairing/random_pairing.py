"""Random within-species pairing: the baseline every pairing method must beat.

Inside a species with ``n`` left and ``n`` right sequences a uniformly random
matching gets on average one pair right, so over a whole data set the
expected precision is (number of species) / (number of sequences).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from protlm.pairing._blocks import (
    blocks_from_paired,
    blocks_from_species,
    build_result,
    ortholog_pairs,
    random_matching,
    routes,
)
from protlm.pairing.result import PairingResult

__all__ = ["pair_random", "pair_random_arrays"]

log = logging.getLogger(__name__)


def _pair_random_blocks(blocks, *, seed: int, left_ids=None, right_ids=None) -> PairingResult:
    rng = np.random.default_rng(seed)
    matchings, confidences = [], []
    for block in blocks:
        match = random_matching(block.left, block.right, rng)
        p = 1.0 / max(len(block.left), len(block.right))
        matchings.append(match)
        confidences.append({lr: p for lr in match})
    n_seq = sum(len(b.left) for b in blocks)
    log.info("random pairing: %d species, %d left sequences, expected precision %.3f",
             len(blocks), n_seq, len(blocks) / max(n_seq, 1))
    return build_result("random", blocks, matchings, confidences, left_ids=left_ids, right_ids=right_ids,
                        info={"seed": seed, "expected_precision": len(blocks) / max(n_seq, 1),
                              "routes": routes(blocks, {}, ortholog_pairs(blocks))})


def pair_random(paired, *, seed: int = 0, context=None) -> PairingResult:
    """Pair each species block uniformly at random.

    Parameters
    ----------
    paired : protlm.io.PairedFamilies
        The two families and their species blocks.
    seed : int
        Seed of the random matching.
    context : protlm.io.ContextPairs, optional
        Accepted and ignored (a random pairing learns nothing); recorded in
        ``info["context_pairs_used"]`` as 0.

    Returns
    -------
    PairingResult
        ``method="random"``, ``device="cpu"``; each pair's confidence is the
        chance that a random pair in its block is right,
        ``1 / max(n_left, n_right)``; ``agreement`` is NaN (one run).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> fam = NS(left=NS(ids=("L0", "L1")), right=NS(ids=("R0", "R1")),
    ...          blocks=(NS(species="s", left=np.array([0, 1]), right=np.array([0, 1])),))
    >>> r = pair_random(fam, seed=1)
    >>> r.n_pairs, sorted(r.right_ids), r.confidence.tolist()
    (2, ['R0', 'R1'], [0.5, 0.5])
    """
    result = _pair_random_blocks(blocks_from_paired(paired), seed=seed,
                                 left_ids=paired.left.ids, right_ids=paired.right.ids)
    result.info["context_pairs_used"] = 0
    return result


def pair_random_arrays(left_species: Sequence, right_species: Sequence | None = None, *, seed: int = 0,
                       left_ids=None, right_ids=None) -> PairingResult:
    """Random within-species pairing from species labels alone.

    Parameters
    ----------
    left_species, right_species : sequence
        Species of each left / right row (``None``: no species, left out);
        ``right_species`` defaults to ``left_species``.
    seed : int
        Seed of the random matching.
    left_ids, right_ids : sequence of str, optional
        Identifiers put in the result (default: row numbers).

    Examples
    --------
    >>> r = pair_random_arrays(["a", "a", "b"], seed=0)
    >>> r.n_pairs, r.n_species
    (3, 2)
    """
    return _pair_random_blocks(blocks_from_species(left_species, right_species), seed=seed,
                               left_ids=left_ids, right_ids=right_ids)
