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


def _brute_loglik(read, window, known, e, f, pf):
    """Likelihood of ``read`` over ``window`` by enumerating where its failed cycles are (the last position is
    a residue's), straight from the simulator's description of the process (ErrorModel.apply)."""
    import itertools

    k = len(known)
    total = 0.0
    L = len(read)
    for fails in itertools.product((False, True), repeat=L - 1):
        fails = (*fails, False)
        m = L - sum(fails)
        if m > len(window):
            continue
        p, j = 1.0, 0
        for obs, failed in zip(read, fails):
            shown = None
            if failed:
                p *= pf
            else:
                p *= 1 - pf
                shown = window[j] if window[j] in known else None
                j += 1
            if shown is None:  # shows nothing, or a false detection
                p *= (1 - f) if obs == "X" else f / k
            else:
                p *= ((1 - e) * (1 - f)) if obs == "X" else (e * (obs == shown) + (1 - e) * f / k)
        total += p
    return total


def test_with_errors_the_posterior_is_the_simulators_process(bc):
    from protlm.sequencing.error_model import ErrorModel

    ref = {"a": "GKGCYGKG", "b": "KGGCGYKG", "c": "GGKCGGYK"}
    idx = build_index(io.StringIO("".join(f">{n}\n{s}\n" for n, s in ref.items())), decoys=None)
    errors = ErrorModel(edman_failure=0.2, false_detection=0.05)
    e, known = 0.9, "KCY"
    for read in ("XKXCY", "KXXCXY", "XXKCXXY", "KYX"):
        # every start of every sequence (uniform prior); a residue string's mass is that of all its windows, and
        # a protein's posterior that of the strings it holds, each once (a shared string is right for each)
        strings = {}
        for s in ref.values():
            for i in range(len(s)):
                w = s[i: i + len(read)]
                strings[w] = strings.get(w, 0.0) + _brute_loglik(read, w, known, e, 0.05, 0.2)
        total = sum(strings.values())
        post = {n: sum(v for w, v in strings.items() if w in {s[i: i + len(read)] for i in range(len(s))}) / total
                for n, s in ref.items()}
        truth_best = max(post, key=post.get)
        peps, best = bc.read_peps([read], idx, known, efficiency=e, errors=errors)
        assert idx.ids[int(best[0])] == truth_best
        assert peps[0] == pytest.approx(1 - post[truth_best], rel=1e-6, abs=1e-9)


def test_pruned_windows_do_not_change_the_posteriors(bc, monkeypatch):
    from protlm.sequencing.error_model import ErrorModel

    rng = np.random.default_rng(3)
    seqs = ["".join(rng.choice(list("AGKCYLST"), 60)) for _ in range(40)]
    idx = build_index(io.StringIO("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs))), decoys=None)
    reads = ["".join(c if c in "KCY" and rng.random() < 0.9 else "X" for c in s[5:25]) for s in seqs[:8]]
    errors = ErrorModel.whatprot()
    pruned, best = bc.read_peps(reads, idx, "KCY", efficiency=0.9, errors=errors)
    monkeypatch.setattr(bc, "PRUNE_NATS", 200.0)
    full, best_full = bc.read_peps(reads, idx, "KCY", efficiency=0.9, errors=errors)
    assert best.tolist() == best_full.tolist()
    np.testing.assert_allclose(pruned, full, atol=1e-6)


def test_the_error_free_limit_of_the_error_model_is_the_error_free_posterior(bc):
    from protlm.sequencing.error_model import ErrorModel

    idx = build_index(io.StringIO(">a\nGGKGGCGGG\n>b\nGGKGGCGYG\n"), decoys=None)
    tiny = ErrorModel(edman_failure=1e-9, false_detection=1e-9)
    exact, _ = bc.read_peps(["XXKXXCXXX"], idx, "KCY", efficiency=0.9)
    near, best = bc.read_peps(["XXKXXCXXX"], idx, "KCY", efficiency=0.9, errors=tiny)
    assert best.tolist() == [0] and near[0] == pytest.approx(exact[0], rel=1e-5)
