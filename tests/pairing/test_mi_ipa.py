"""MI-IPA: the vectorised pieces against naive definitions, and pairing on real HK-RR data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from protlm.errors import PairingInputError
from protlm.io import PairedFamilies, read_msa
from protlm.pairing import assignment, pmi
from protlm.pairing.mi_ipa import encode_residues, pair_mi_ipa, pair_mi_ipa_arrays, pmi_scores
from protlm.pairing.random_pairing import pair_random
from protlm.pairing.shuffling import keep_species, shuffle_within_species


@pytest.fixture(scope="module")
def hkrr575(data):
    """The 575 set as in the MI-IPA / DiffPaSS papers: 573 pairs, 42 species, RR shuffled (seed 0)."""
    msa = read_msa(data("pairing/hkrr_standard_575.fasta"))
    assert msa.ids[0].startswith("FirstSeq") and "_DUMMY" in msa.descriptions[-1]
    paired = PairedFamilies.from_concatenated(msa[1:-1], split_at=64, species_key="field:|:2", truth="same-order")
    return shuffle_within_species(keep_species(paired, min_pairs=2), seed=0)


@pytest.fixture(scope="module")
def mi575(hkrr575):
    return pair_mi_ipa(hkrr575, seed=0)


def _subset(paired, n_species):
    return keep_species(paired, species=[b.species for b in paired.blocks[:n_species]])


# -- the pieces --------------------------------------------------------------


def naive_scores(left, right, train_l, train_r, theta, pc):
    """PMI scores straight from the paper's definitions, with loops."""
    q = 21
    lc, rc = encode_residues(left), encode_residues(right)
    seqs = np.concatenate([lc[train_l], rc[train_r]], axis=1)
    n, length = seqs.shape
    dist = (seqs[:, None, :] != seqs[None, :, :]).mean(axis=2)
    w = 1.0 / (dist < theta).sum(axis=1) if theta > 0 else np.ones(n)
    meff = w.sum()
    la = lc.shape[1]
    fi = np.zeros((length, q))
    for k in range(n):
        fi[np.arange(length), seqs[k]] += w[k] / meff
    pmi = np.zeros((la, length - la, q, q))
    for i, j in itertools.product(range(la), range(la, length)):
        fij = np.zeros((q, q))
        for k in range(n):
            fij[seqs[k, i], seqs[k, j]] += w[k] / meff
        pij = (1 - pc) * fij + pc / q**2
        pi = (1 - pc) * fi[i] + pc / q
        pj = (1 - pc) * fi[j] + pc / q
        pmi[i, j - la] = np.log(pij / np.outer(pi, pj))
    pmi[:, :, 0, :] = 0.0  # gaps carry no PMI
    pmi[:, :, :, 0] = 0.0
    scores = np.zeros((len(lc), len(rc)))
    for a, b in itertools.product(range(len(lc)), range(len(rc))):
        scores[a, b] = pmi[np.arange(la)[:, None], np.arange(rc.shape[1])[None, :], lc[a][:, None], rc[b][None, :]].sum()
    return scores


@pytest.mark.parametrize("theta", [0.0, 0.3])
def test_pmi_scores_match_the_definition(theta):
    rng = np.random.default_rng(0)
    left = rng.integers(0, 5, size=(14, 4))   # code 0 = gap, in the data on purpose
    right = rng.integers(0, 5, size=(14, 3))
    right[:7] = left[:7, :3]                    # close pairs, so that reweighting matters
    train_l, train_r = np.arange(10), np.array([0, 1, 2, 3, 4, 5, 6, 9, 8, 7])
    got = pmi_scores(left, right, train_l, train_r, theta=theta, pseudocount=0.15)
    want = naive_scores(left, right, train_l, train_r, theta, 0.15)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def brute_gaps(cost):
    r, c = linear_sum_assignment(cost)
    best = cost[r, c].sum()
    gaps = []
    for i in range(len(cost)):
        forbidden = cost.copy()
        forbidden[i, c[i]] = 1e9
        r2, c2 = linear_sum_assignment(forbidden)
        gaps.append(forbidden[r2, c2].sum() - best if len(cost) > 1 else np.inf)
    return best, np.array(gaps)


@pytest.mark.parametrize("seed", range(4))
def test_assignment_gaps_match_resolving_without_each_pair(seed):
    rng = np.random.default_rng(seed)
    costs = [rng.normal(size=(m, m)) for m in (1, 2, 3, 5, 5, 8, 13)]
    costs.append(np.zeros((4, 4)))  # all ties: every gap is 0
    sigmas, gaps = assignment.assign_with_gaps(costs, np.random.default_rng(seed))
    for cost, sigma, gap in zip(costs, sigmas, gaps):
        best, want = brute_gaps(cost)
        assert sorted(sigma) == list(range(len(cost)))
        assert cost[np.arange(len(cost)), sigma].sum() == pytest.approx(best)
        np.testing.assert_allclose(gap, want, atol=1e-9)


@pytest.mark.parametrize("dense", [False, True])
def test_incremental_pair_counts_equal_a_fresh_count(dense):
    rng = np.random.default_rng(1)
    left, right = rng.integers(0, 6, size=(100, 5)), rng.integers(0, 6, size=(100, 4))
    li, dl = pmi._features(left, gaps=dense)
    ri, dr = pmi._features(right, gaps=dense)
    onehots = {"left_onehot": pmi._one_hot(li, dl), "right_onehot": pmi._one_hot(ri, dr)} if dense else {}
    counts = pmi._PairCounts(li, dl, ri, dr, 100, **onehots)
    for size in (100, 5, 90, 12, 80):  # big and small changes: every code path
        tl, tr = rng.permutation(100)[:size], rng.permutation(100)[:size]
        w = rng.integers(1, 3, size).astype(float) if dense else rng.uniform(0.2, 1.0, size)
        counts.update(tl, tr, w)
        xl, xr = pmi._one_hot(li, dl), pmi._one_hot(ri, dr)
        np.testing.assert_allclose(counts.matrix(), (xl[tl] * w[:, None]).T @ xr[tr], atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_block_scorer_equals_the_dense_products(seed):
    rng = np.random.default_rng(seed)
    left, right = rng.integers(0, 6, size=(40, 7)), rng.integers(0, 6, size=(40, 5))  # code 0: gaps
    model = pmi._PMIModel(encode_residues(left), encode_residues(right), theta=0.2, pseudocount=0.15)
    matrix, _ = model.fit(rng.permutation(40)[:30], rng.permutation(40)[:30])
    blocks = [(np.arange(0, 3), np.arange(0, 4)), (np.arange(3, 13), np.arange(4, 14)), (np.arange(13, 40), np.arange(14, 40)),
              (np.array([5]), np.array([39]))]
    got = pmi.BlockScorer(model.li, model.ri, blocks)(matrix)
    for (fl, fr), scores in zip(blocks, got):
        want = model.xl[fl] @ matrix @ model.xr[fr].T
        assert scores.shape == (len(fl), len(fr))
        np.testing.assert_allclose(scores, want, rtol=1e-5, atol=1e-4)


def test_encode_residues_and_its_errors():
    msa = np.frombuffer(b"ACDEFGHIKLMNPQRSTVWY-X.a", dtype=np.uint8).reshape(1, -1)
    assert encode_residues(msa).tolist() == [list(range(1, 21)) + [0, 0, 0, 1]]
    with pytest.raises(PairingInputError, match="0..20"):
        encode_residues(np.array([[0, 21]]))
    with pytest.raises(PairingInputError, match="2-D"):
        encode_residues(np.zeros(4, dtype=np.uint8))


def test_bad_options_and_known_pairs_are_refused():
    left = np.ones((4, 3), dtype=np.int64)
    species = ["a", "a", "b", "b"]
    with pytest.raises(PairingInputError, match="theta"):
        pair_mi_ipa_arrays(left, left, species, theta=1.5)
    with pytest.raises(PairingInputError, match="n_increment"):
        pair_mi_ipa_arrays(left, left, species, n_increment=0)
    with pytest.raises(PairingInputError, match="same species"):
        pair_mi_ipa_arrays(left, left, species, known_pairs={0: 2})
    with pytest.raises(PairingInputError, match="two known pairs"):
        pair_mi_ipa_arrays(left, left, species, known_pairs=[(0, 0), (1, 0)])
    with pytest.raises(PairingInputError, match="no species"):
        pair_mi_ipa_arrays(left, left, species, ["c"] * 4)


def test_unequal_species_blocks_leave_the_surplus_unpaired():
    rng = np.random.default_rng(2)
    left = rng.integers(1, 4, size=(60, 8))
    right = left[:, ::-1].copy()  # the right partner mirrors its left sequence
    species = [f"s{i // 6}" for i in range(60)]
    # drop one right sequence of species s0: its left partner (row 0) has no right partner left
    res = pair_mi_ipa_arrays(left, right[1:], species, species[1:], seed=0)
    assert res.n_pairs == 59
    assert sum(1 for r in res.right_rows if r < 0) == 1
    assert res.precision({i: i - 1 for i in range(1, 60)}) > 0.9
    # were left 0 said to pair with a right sequence, leaving it unpaired would count as a wrong pair
    truth = {0: 5, **{i: i - 1 for i in range(1, 60)}}
    assert res.precision(truth) == pytest.approx(res.n_correct(truth) / 60)


# -- real data ---------------------------------------------------------------


def test_mi_ipa_beats_random_widely_on_hkrr575(hkrr575, mi575):
    res = mi575
    rnd = pair_random(hkrr575, seed=0)
    assert res.method == "mi-ipa" and res.n_pairs == 573 and res.n_species == 42
    precision = res.precision(hkrr575.truth)
    # measured 0.253 (random: 0.077, expected 42/573 = 0.073)
    assert precision >= 0.17
    assert precision >= 2.2 * rnd.precision(hkrr575.truth)
    # the confidence (gap rank) means something: measured 0.37 in the top tenth, 0.19 in the bottom quarter
    mapping, conf = res.mapping(), dict(zip(res.left_rows.tolist(), res.confidence.tolist()))
    ranked = sorted(mapping, key=lambda l: -conf[l])
    correct = np.array([hkrr575.truth[l] == mapping[l] for l in ranked])
    assert correct[: len(ranked) // 10].mean() > correct[-len(ranked) // 4:].mean() + 0.1
    assert np.all((res.confidence > 0) & (res.confidence <= 1)) and not np.all(res.confidence == 1.0)
    assert res.device == "cpu" and np.isnan(res.agreement).all()  # one run: no agreement
    assert len(res.history["training_size"]) == res.info["n_rounds"] == 97  # ceil(573 / 6) + 1


def test_mi_ipa_is_deterministic_under_a_seed(hkrr575):
    sub = _subset(hkrr575, 6)
    a, b = pair_mi_ipa(sub, seed=3), pair_mi_ipa(sub, seed=3)
    assert a.mapping() == b.mapping()
    np.testing.assert_array_equal(a.confidence, b.confidence)
    c = pair_mi_ipa(sub, seed=4)
    assert c.mapping() != a.mapping()  # the random start differs


def test_known_pairs_seed_mi_ipa(hkrr575, mi575):
    # all true pairs of 21 of the 42 species are given; the other 21 species are predicted
    given = {b.species for b in hkrr575.blocks[::2]}
    known = {l: r for l, r in hkrr575.truth.items() if hkrr575.left.species[l] in given}
    res = pair_mi_ipa(hkrr575, known_pairs=known, seed=0)
    mapping = res.mapping()
    assert all(mapping[l] == r for l, r in known.items())  # kept, never reassigned
    conf = dict(zip(res.left_rows.tolist(), res.confidence.tolist()))
    assert all(conf[l] == 1.0 for l in known)
    rest = {l: r for l, r in hkrr575.truth.items() if l not in known}
    seeded = np.mean([mapping[l] == r for l, r in rest.items()])
    unseeded = np.mean([mi575.mapping()[l] == r for l, r in rest.items()])
    # measured: seeded 0.679 vs unseeded 0.317 on the same 21 species
    assert seeded >= unseeded + 0.2


def test_known_pairs_by_id(hkrr575):
    sub = _subset(hkrr575, 4)
    first = sub.blocks[0]
    known_rows = {int(l): sub.truth[int(l)] for l in first.left[:2]}
    by_id = [(sub.left.ids[l], sub.right.ids[r]) for l, r in known_rows.items()]
    res = pair_mi_ipa(sub, known_pairs=by_id, seed=0)
    assert all(res.mapping()[l] == r for l, r in known_rows.items())
    assert res.info["n_known"] == 2
    with pytest.raises(PairingInputError, match="id 'nope' is not in the left MSA"):
        pair_mi_ipa(sub, known_pairs=[("nope", sub.right.ids[0])])
