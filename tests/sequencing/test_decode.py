import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protlm.models.alphabet import AMINO_ACIDS, known_vector
from protlm.sequencing.decode import constrained_probabilities, refinement_schedule
from protlm.sequencing.predictor import predict_reads
from protlm.sequencing.reads import PartialRead
from protlm.sequencing.simulate import simulate_reads

known_sets = st.sets(st.sampled_from(AMINO_ACIDS), min_size=1, max_size=19).map(lambda s: "".join(sorted(s)))


@settings(max_examples=60, deadline=None)
@given(known=known_sets, eff=st.floats(0.01, 1.0), seed=st.integers(0, 2**16))
def test_constrained_probabilities_normalised(known, eff, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3, size=(5, 20))
    p = constrained_probabilities(logits, known_vector(known), eff)
    assert np.allclose(p.sum(axis=1), 1, atol=1e-5)
    kv = known_vector(known)
    if eff == 1.0:
        assert (p[:, kv] == 0).all()
    else:
        # P(a|X) / P(b|X) = (1 - e) * exp(l_a - l_b) for a known, b not
        a, b = np.flatnonzero(kv)[0], np.flatnonzero(~kv)[0]
        ratio = p[:, a] / p[:, b]
        assert np.allclose(ratio, (1 - eff) * np.exp(logits[:, a] - logits[:, b]), rtol=1e-3)


def test_torch_and_numpy_agree():
    import torch

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 20)).astype(np.float32)
    prior = rng.dirichlet(np.ones(20), size=4)
    kv = known_vector("KCYM")
    a = constrained_probabilities(logits, kv, 0.8, log_prior=np.log(prior))
    b = constrained_probabilities(torch.from_numpy(logits), kv, 0.8, log_prior=np.log(prior)).numpy()
    assert np.allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("known", ["KCYM", "KCYMRHWST", "KCYMR", "L"])
@pytest.mark.parametrize("refine", [0, 2])
def test_never_a_known_letter_at_x_when_e_is_1(tiny_backend, ecoli_records, known, refine):
    sim = simulate_reads(ecoli_records[:12], known=known)
    pred = predict_reads(sim.reads, known=known, backend=tiny_backend, refine=refine)
    kv = known_vector(known)
    for i, read in enumerate(pred.reads):
        seq = pred.sequences[i]
        probs = pred.read_probabilities(i)
        for j, (r, s) in enumerate(zip(read, seq)):
            if r == "X":
                assert s not in known
                assert probs[j, kv].sum() == 0
            else:
                assert s == r and probs[j].max() == 1.0


def test_known_letter_possible_at_x_when_e_below_1(tiny_backend):
    read = PartialRead("r", "X" * 30)
    freq_logits_known = predict_reads([read], known="KCYM", backend=tiny_backend, efficiency=0.5)
    p = freq_logits_known.read_probabilities(0)
    assert (p[:, known_vector("KCYM")] > 0).all()


def test_prior_multiplies_in(tiny_backend):
    read = PartialRead("r", "XKXXC")
    prior = np.full((5, 20), 1 / 20)
    prior[2] = 0
    prior[2, AMINO_ACIDS.index("W")] = 1.0  # a confident reference residue
    pred = predict_reads([read], known="KC", backend=tiny_backend, prior=[prior])
    assert pred.sequences[0][2] == "W"
    assert pred.read_probabilities(0)[2, AMINO_ACIDS.index("W")] == pytest.approx(1.0)
    plain = predict_reads([read], known="KC", backend=tiny_backend)
    # a flat prior changes nothing elsewhere
    assert np.allclose(pred.read_probabilities(0)[[0, 3]], plain.read_probabilities(0)[[0, 3]], atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        predict_reads([read], known="KC", backend=tiny_backend, prior=[np.ones((4, 20))])


def test_refinement_schedule():
    assert refinement_schedule(9, 2) == [3, 3]
    assert refinement_schedule(0, 3) == [0, 0, 0]
