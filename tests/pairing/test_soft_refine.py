"""Entropy IPA's soft refinement: a species learns only from the others' soft pairs, fixed pairs count, blocks may
be rectangular, and the NumPy Sinkhorn is the torch one."""

from __future__ import annotations

import numpy as np
import pytest

from protlm.pairing.homology import similarity_kernel
from protlm.pairing.sinkhorn import log_sinkhorn
from protlm.pairing.soft_refine import soft_refine, vote_start


def _toy(seed=0, n_species=8, n_paralogs=3, length=14):
    rng = np.random.default_rng(seed)
    anc = rng.integers(1, 21, size=(n_paralogs, length))
    left = np.concatenate([np.where(rng.random(anc.shape) < 0.25, rng.integers(1, 21, anc.shape), anc)
                           for _ in range(n_species)])
    right = np.where(rng.random(left.shape) < 0.1, rng.integers(1, 21, left.shape), left[:, ::-1])
    free = [(k, np.arange(n_paralogs * k, n_paralogs * (k + 1)), np.arange(n_paralogs * k, n_paralogs * (k + 1)))
            for k in range(n_species)]
    kernels = (similarity_kernel(left, left, beta=5.0), similarity_kernel(right, right, beta=5.0))
    return left, right, free, np.repeat(np.arange(n_species), n_paralogs), kernels


def test_a_species_scores_ignore_its_own_soft_pairing():
    left, right, free, species, kernels = _toy()
    flat = [np.full((3, 3), 1 / 3) for _ in free]
    other = [m.copy() for m in flat]
    other[0] = np.eye(3)[[2, 0, 1]]  # species 0 starts elsewhere
    a = soft_refine(left, right, free, {}, flat, species_of_left=species, kernels=kernels, n_steps=1)
    b = soft_refine(left, right, free, {}, other, species_of_left=species, kernels=kernels, n_steps=1)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-3, atol=1e-3)  # equal up to float32 counts
    assert np.abs(a[1] - b[1]).max() > 0.05  # ... which the other species learn from


def test_anneals_towards_the_true_pairing_and_fixed_pairs_count():
    left, right, free, species, kernels = _toy(seed=1)
    flat = [np.full((3, 3), 1 / 3) + 0.01 * np.eye(3)[[1, 2, 0]] for _ in free]
    scores = soft_refine(left, right, free, {}, flat, species_of_left=species, kernels=kernels)
    right_rows = sum(np.argmax(s, axis=1).tolist() == [0, 1, 2] for s in scores)
    assert right_rows >= 6
    # a fixed pair (here species 0's, as known pairs) changes what the others learn, not its own scores' input
    fixed = {0: 0, 1: 1, 2: 2}
    with_fixed = soft_refine(left, right, free[1:], fixed, flat[1:], species_of_left=species, kernels=kernels,
                             n_steps=1)
    without = soft_refine(left, right, free[1:], {}, flat[1:], species_of_left=species, kernels=kernels, n_steps=1)
    assert not np.allclose(with_fixed[0], without[0])


def test_rectangular_blocks_and_bad_steps():
    left, right, free, species, kernels = _toy(seed=2)
    free = [(k, fl, fr[:2]) if k == 0 else (k, fl, fr) for k, fl, fr in free]
    start = vote_start(free, [{i: i for i in range(24)}])
    assert start[0].shape == (3, 2) and np.all(start[0].sum(axis=0) <= 1 + 1e-9)
    scores = soft_refine(left, right, free, {}, start, species_of_left=species, kernels=kernels, n_steps=3)
    assert scores[0].shape == (3, 2) and np.all(np.isfinite(scores[0]))
    with pytest.raises(ValueError, match="n_steps"):
        soft_refine(left, right, free, {}, start, species_of_left=species, kernels=kernels, n_steps=0)


def test_numpy_sinkhorn_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((5, 5))
    np.testing.assert_allclose(log_sinkhorn(x, 30), log_sinkhorn(torch.tensor(x), 30).numpy(), atol=1e-10)


def test_column_pair_selection_finds_the_coupled_columns():
    # right row i is left row i reversed (10 % noise): the coupled column pairs are (c, 13 - c)
    from protlm.pairing.pmi import _features, _one_hot
    from protlm.pairing.soft_refine import _state_columns, top_column_mask

    left, right, free, species, kernels = _toy(seed=4, n_species=40)
    (li, dl), (ri, dr) = _features(left), _features(right)
    xl, xr = _one_hot(li, dl), _one_hot(ri, dr)
    cl, cr = _state_columns(li, dl), _state_columns(ri, dr)
    args = (xl.T @ xr, xl.sum(0), xr.sum(0), float(len(left)), cl, cr, (14, 14))
    mask = top_column_mask(*args, 14)
    assert {(int(cl[u]), int(cr[v])) for u, v in zip(*np.nonzero(mask))} == {(c, 13 - c) for c in range(14)}
    assert top_column_mask(*args, 14 * 14).min() == 1.0  # every pair kept
    # with the selection, the refinement still anneals to the truth; 0 column pairs is refused
    flat = [np.full((3, 3), 1 / 3) + 0.01 * np.eye(3)[[1, 2, 0]] for _ in free]
    scores = soft_refine(left, right, free, {}, flat, species_of_left=species, kernels=kernels, top_column_pairs=14)
    assert sum(np.argmax(s, axis=1).tolist() == [0, 1, 2] for s in scores) >= 36
    with pytest.raises(ValueError, match="top_column_pairs"):
        soft_refine(left, right, free, {}, flat, species_of_left=species, kernels=kernels, top_column_pairs=0)
