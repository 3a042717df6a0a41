"""Property tests of the pure permutation functions."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from protlm.pairing.draws import RecordedDraws, RecordingDraws, TorchDraws
from protlm.pairing.sinkhorn import (
    gumbel_sinkhorn,
    hungarian,
    log_sinkhorn,
    matrix_to_perm,
    perm_to_matrix,
    straight_through,
)

square = st.integers(1, 9).flatmap(
    lambda n: arrays(np.float32, (n, n), elements=st.floats(-5, 5, width=32, allow_nan=False))
)


@settings(max_examples=25, deadline=None)
@given(square, st.floats(0.5, 3.0), st.booleans())
def test_sinkhorn_is_doubly_stochastic(a, tau, noisy):
    x = torch.from_numpy(a)
    u = torch.rand(x.shape, generator=torch.Generator().manual_seed(0)) if noisy else None
    s = gumbel_sinkhorn(x, uniforms=u, noise_factor=0.1, tau=tau, n_iter=1000)
    assert torch.all(s >= 0)
    # columns are normalised last, so they sum to 1 exactly; rows converge
    torch.testing.assert_close(s.sum(0), torch.ones(len(a)), atol=1e-5, rtol=0)
    torch.testing.assert_close(s.sum(1), torch.ones(len(a)), atol=1e-3, rtol=0)


@settings(max_examples=40, deadline=None)
@given(square, st.integers(0, 2**31 - 1), st.booleans())
def test_hungarian_is_a_permutation_and_optimal(a, seed, conjugate):
    x = torch.from_numpy(a)
    g = torch.Generator().manual_seed(seed)
    conj = (torch.randperm(len(a), generator=g), torch.randperm(len(a), generator=g)) if conjugate else None
    m = hungarian(x, conjugation=conj).numpy()
    assert set(np.unique(m)) <= {0.0, 1.0}
    assert np.all(m.sum(0) == 1) and np.all(m.sum(1) == 1)
    perm = matrix_to_perm(m)
    np.testing.assert_array_equal(perm_to_matrix(perm), m)
    # conjugation only changes which of several optima is returned
    best = (hungarian(x).numpy() * a).sum()
    assert np.isclose((m * a).sum(), best, atol=1e-4)


def test_conjugation_breaks_ties_at_random():
    zeros = torch.zeros(6, 6)
    assert np.array_equal(matrix_to_perm(hungarian(zeros)), np.arange(6))  # scipy's tie -> identity
    d = TorchDraws(1)
    perms = {tuple(matrix_to_perm(hungarian(zeros, conjugation=d.conjugation(0, 0, 6)))) for _ in range(10)}
    assert len(perms) > 1


def test_sinkhorn_concentrates_at_low_temperature():
    x = torch.tensor([[3.0, 0.0, 0.0], [0.0, 0.0, 3.0], [0.0, 3.0, 0.0]])
    s = log_sinkhorn(x / 0.05, 50)
    np.testing.assert_array_equal(matrix_to_perm(s), matrix_to_perm(hungarian(x)))
    assert float(s.max(0).values.min()) > 0.99


def test_straight_through_forward_hard_backward_soft():
    soft = torch.full((2, 2), 0.5, requires_grad=True)
    hard = torch.eye(2)
    out = straight_through(hard, soft)
    torch.testing.assert_close(out.detach(), hard)
    (out * torch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    torch.testing.assert_close(soft.grad, torch.tensor([[1.0, 2.0], [3.0, 4.0]]))


def test_recorded_draws_replay_a_torch_source():
    rec = RecordingDraws(TorchDraws(5), n_blocks=2)
    first = [rec.noise_uniforms(0, b, 3) for b in range(2)] + [rec.conjugation(0, b, 3)[1] for b in range(2)]
    first.append(rec.mask_uniforms(0, (1, 4, 7)))
    rep = RecordedDraws(rec.arrays, n_blocks=2)
    again = [rep.noise_uniforms(0, b, 3) for b in range(2)] + [rep.conjugation(0, b, 3)[1] for b in range(2)]
    again.append(rep.mask_uniforms(0, (1, 4, 7)))
    for a, b in zip(first, again):
        assert torch.equal(a, b)
