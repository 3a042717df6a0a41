"""The Bayes ceiling of the identification benchmark (benchmarks/_bayes_ceiling.py): exact posteriors by hand."""

from __future__ import annotations

import io

import numpy as np
import pytest

from protlm.sequencing.index import build_index


@pytest.fixture(scope="module")
def bc(benchmark_module):
    return benchmark_module("_bayes_ceiling")


def test_a_missed_letter_shares_the_posterior_by_the_likelihood_ratio(bc):
    # the read shows K and C; window "a" explains it exactly, window "b" holds one more Y, which the read would
    # have missed (1 - e): posterior of b = (1 - e) / (1 + (1 - e)) under a uniform prior over windows
    idx = build_index(io.StringIO(">a\nGGKGGCGGG\n>b\nGGKGGCGYG\n"), decoys=None)
    peps, best = bc.read_peps(["XXKXXCXXX"], idx, "KCY", efficiency=0.9)
    assert best.tolist() == [0]
    assert peps[0] == pytest.approx(0.1 / 1.1)
    # a letter over a residue of another type is impossible: the Y-read goes to b with certainty
    peps, best = bc.read_peps(["XXKXXCXYX"], idx, "KCY", efficiency=0.9)
    assert best.tolist() == [1] and peps[0] == pytest.approx(0.0)


def test_windows_outside_the_digest_or_across_sequences_do_not_count(bc):
    # the pattern occurs in a at offset 2 (after K: a tryptic start) and in b at offset 1 (after A: not one)
    idx = build_index(io.StringIO(">a\nAKGKCGA\n>b\nAGKCAAA\n"), decoys=None)
    reads = ["XKCX"]
    peps_all, _ = bc.read_peps(reads, idx, "KC", efficiency=0.9)
    peps_dig, best = bc.read_peps(reads, idx, "KC", efficiency=0.9, digest="trypsin")
    assert peps_all[0] == pytest.approx(0.5) and peps_dig[0] == pytest.approx(0.0) and best.tolist() == [0]
    # a read longer than every sequence fits no window
    peps, best = bc.read_peps(["K" + "X" * 10], idx, "KC", efficiency=0.9)
    assert peps.tolist() == [1.0] and best.tolist() == [-1]


def test_reads_are_taken_while_their_mean_pep_stays_under_the_fdr(bc):
    peps = np.array([0.5, 0.0, 0.02, 0.0, 0.009])
    take = bc.identified_at(peps, 0.01)
    # sorted 0, 0, 0.009, 0.02 (mean 0.0073), 0.5: the first four
    assert take.tolist() == [False, True, True, True, True]
    assert not bc.identified_at(np.array([0.2, 0.3]), 0.01).any()
