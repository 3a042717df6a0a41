"""Homology transfer from context pairs (protlm.pairing.homology) and its use in MI-IPA with context (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

from protlm.errors import PairingInputError
from protlm.io import MSA, ContextPairs, PairedFamilies
from protlm.pairing.assignment import assign_with_gaps, square_costs
from protlm.pairing.homology import context_homology_scores, row_spread
from protlm.pairing.mi_ipa import pair_mi_ipa
from protlm.pairing.pmi import encode_residues

AA = "ACDEFGHIKLMNPQRSTVWY"


def mutate(seq, rate, rng):
    return "".join(rng.choice(list(AA)) if rng.random() < rate else c for c in seq)


def subtypes(n_types=8, length=30, seed=0):
    """Left and right templates of ``n_types`` subtypes, unrelated to each other (random residues)."""
    rng = np.random.default_rng(seed)
    return ([("".join(rng.choice(list(AA), length))) for _ in range(n_types)],
            [("".join(rng.choice(list(AA), length))) for _ in range(n_types)])


def families(templates, *, n_species, per_species, rate, seed, prefix):
    """Species holding ``per_species`` distinct subtypes each; row i of each side is pair i (same subtype)."""
    rng = np.random.default_rng(seed)
    lt, rt = templates
    left, right, lid, rid = [], [], [], []
    for s in range(n_species):
        for i, t in enumerate(rng.choice(len(lt), per_species, replace=False)):
            left.append(mutate(lt[t], rate, rng))
            right.append(mutate(rt[t], rate, rng))
            lid.append(f"{prefix}L{s}.{i}_sp{prefix}{s}")
            rid.append(f"{prefix}R{s}.{i}_sp{prefix}{s}")
    return MSA.from_sequences(left, ids=lid), MSA.from_sequences(right, ids=rid)


def shuffled(left, right, per_species, seed):
    rng = np.random.default_rng(seed)
    n = len(left.ids)
    order = np.concatenate([s + rng.permutation(per_species) for s in range(0, n, per_species)])
    truth = {int(order[j]): j for j in range(n)}
    return PairedFamilies.from_msas(left, right[order], species_key="field:_:-1", truth=truth)


@pytest.fixture(scope="module")
def data():
    templates = subtypes()
    ctx = families(templates, n_species=6, per_species=4, rate=0.35, seed=1, prefix="c")
    test = families(templates, n_species=8, per_species=5, rate=0.35, seed=2, prefix="t")
    return ctx, shuffled(*test, 5, seed=3)


def hungarian_precision(scores, pf):
    blocks = [(b.left, b.right) for b in pf.blocks]
    sig, _ = assign_with_gaps([square_costs(s) for s in scores], np.random.default_rng(0))
    hits = [pf.truth[int(fl[i])] == int(fr[sig[k][i]]) for k, (fl, fr) in enumerate(blocks) for i in range(len(fl))]
    return float(np.mean(hits))


def test_homology_scores_find_the_partners_of_the_context_pairs_and_not_of_shuffled_ones(data):
    (cl, cr), pf = data
    blocks = [(b.left, b.right) for b in pf.blocks]
    lc, rc = encode_residues(pf.left.array), encode_residues(pf.right.array)
    scores = context_homology_scores(lc, rc, encode_residues(cl.array), encode_residues(cr.array), blocks)
    assert [s.shape for s in scores] == [(len(fl), len(fr)) for fl, fr in blocks]
    assert hungarian_precision(scores, pf) == 1.0
    # the same context with its pairs broken (right rows in another order): no signal left, near chance (1/5)
    broken = encode_residues(cr.array)[np.random.default_rng(4).permutation(len(cr.ids))]
    scores = context_homology_scores(lc, rc, encode_residues(cl.array), broken, blocks)
    assert hungarian_precision(scores, pf) < 0.5


def test_mi_ipa_adds_the_homology_scores_scaled_by_their_weight(data):
    (cl, cr), pf = data
    context = ContextPairs.from_msas(cl, cr)
    blocks = [(b.left, b.right) for b in pf.blocks]
    homology = context_homology_scores(encode_residues(pf.left.array), encode_residues(pf.right.array),
                                       encode_residues(cl.array), encode_residues(cr.array), blocks)
    sig, _ = assign_with_gaps([square_costs(h) for h in homology], np.random.default_rng(0))
    by_homology = {int(fl[i]): int(fr[sig[k][i]]) for k, (fl, fr) in enumerate(blocks) for i in range(len(fl))}
    dominated = pair_mi_ipa(pf, context=context, seed=0, homology_weight=1e6)
    assert dominated.mapping() == by_homology and dominated.info["homology_weight"] == 1e6
    # the same context with its pairs broken: a dominating homology score now pairs at about chance
    broken = ContextPairs.from_msas(cl, cr[np.random.default_rng(4).permutation(len(cr.ids))])
    assert pair_mi_ipa(pf, context=broken, seed=0, homology_weight=1e6).precision(pf.truth) < 0.5
    assert pair_mi_ipa(pf, context=context, seed=0, homology_weight=0.0).info["homology_weight"] == 0.0
    assert pair_mi_ipa(pf, context=context, seed=0).info["homology_weight"] == 1.0  # the default


def test_homology_weight_is_ignored_without_context_and_checked(data):
    _ctx, pf = data
    a = pair_mi_ipa(pf, seed=0, homology_weight=0.0).mapping()
    b = pair_mi_ipa(pf, seed=0, homology_weight=5.0).mapping()
    assert a == b
    with pytest.raises(PairingInputError, match="homology_weight"):
        pair_mi_ipa(pf, context=ContextPairs.from_msas(*_ctx), homology_weight=-1.0)
    with pytest.raises(ValueError, match="beta"):
        context_homology_scores(np.zeros((1, 3), int), np.zeros((1, 3), int), np.zeros((1, 3), int),
                                np.zeros((1, 3), int), [(np.array([0]), np.array([0]))], beta=0)


def test_row_spread_ignores_row_constants_and_single_column_blocks():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    assert row_spread([x]) == pytest.approx(row_spread([x + np.array([[10.0], [-4.0]])]))
    assert row_spread([np.ones((3, 1))]) == 0.0
