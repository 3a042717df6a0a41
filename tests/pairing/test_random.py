"""Random within-species pairing: the baseline's expected precision and its bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest

from protlm.errors import PairingInputError
from protlm.io import MSA, PairedFamilies, read_msa
from protlm.pairing.random_pairing import pair_random, pair_random_arrays
from protlm.pairing.shuffling import keep_species, shuffle_within_species


@pytest.fixture(scope="module")
def hkrr575(data):
    msa = read_msa(data("pairing/hkrr_standard_575.fasta"))
    paired = PairedFamilies.from_concatenated(msa[1:-1], split_at=64, species_key="field:|:2", truth="same-order")
    return shuffle_within_species(keep_species(paired, min_pairs=2), seed=0)


def test_mean_precision_is_species_over_sequences(hkrr575):
    expected = len(hkrr575.blocks) / hkrr575.left.n_sequences  # 42 / 573
    assert (len(hkrr575.blocks), hkrr575.left.n_sequences) == (42, 573)
    precisions = [pair_random(hkrr575, seed=s).precision(hkrr575.truth) for s in range(300)]
    # one correct pair per species on average: sd of one run ~ sqrt(42)/573 = 0.011, of the mean ~ 0.0007
    assert np.mean(precisions) == pytest.approx(expected, abs=0.004)
    assert 0.0 < np.std(precisions) < 0.03


def test_each_block_is_a_matching_and_confidence_is_chance(hkrr575):
    res = pair_random(hkrr575, seed=1)
    assert res.method == "random" and res.n_pairs == 573 and len(set(res.right_rows)) == 573
    species_l = [hkrr575.left.species[l] for l in res.left_rows]
    species_r = [hkrr575.right.species[r] for r in res.right_rows]
    assert species_l == species_r == list(res.species)
    size = {b.species: len(b.left) for b in hkrr575.blocks}
    np.testing.assert_allclose(res.confidence, [1 / size[s] for s in res.species])
    assert res.device == "cpu" and np.isnan(res.agreement).all()
    assert res.left_ids[0] == hkrr575.left.ids[res.left_rows[0]]


def test_deterministic_under_a_seed(hkrr575):
    assert pair_random(hkrr575, seed=5).mapping() == pair_random(hkrr575, seed=5).mapping()
    assert pair_random(hkrr575, seed=5).mapping() != pair_random(hkrr575, seed=6).mapping()


def test_unequal_blocks_leave_the_surplus_unpaired():
    left = MSA.from_sequences(["AC", "AD", "AE"], ids=["a|s1", "b|s1", "c|s2"])
    right = MSA.from_sequences(["KL", "KM", "KN", "KP"], ids=["x|s1", "y|s2", "z|s2", "w|s3"])
    paired = PairedFamilies.from_msas(left, right, species_key="field:|:2")
    res = pair_random(paired, seed=0)
    assert res.n_pairs == 2  # one per species block s1, s2; s3 has no left sequence
    assert sum(1 for l in res.left_rows if l < 0) == 1  # the surplus right sequence of s2


def test_arrays_entry_point():
    res = pair_random_arrays(["a", "a", "b", None], ["b", "a", "a", "a"], seed=0)
    assert res.n_pairs == 3 and res.n_species == 2
    assert 3 not in res.left_rows  # no species, left out
    with pytest.raises(PairingInputError, match="no species"):
        pair_random_arrays(["a"], ["b"])
