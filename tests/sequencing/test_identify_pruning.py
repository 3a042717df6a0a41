"""The search's shortcuts change nothing it reports: the counting vote selection, and alignments cut short."""

import io

import numpy as np
import pytest

from protlm.io import iter_fasta
from protlm.sequencing import _identify_kernels as kern
from protlm.sequencing import _seed_kernels
from protlm.sequencing import identify
from protlm.sequencing.error_model import ErrorModel
from protlm.sequencing.identify import identify_reads
from protlm.sequencing.index import build_index
from protlm.sequencing.simulate import simulate_reads


def _brute_votes(hseq, hdiag, offset, bin_):
    """Most hits of each sequence in a window of ``bin_`` diagonals, by brute force."""
    votes = {}
    for q in set(hseq.tolist()):
        d = hdiag[hseq == q] - offset
        votes[q] = max(int(((d >= x) & (d < x + bin_)).sum()) for x in d)
    return votes


@pytest.mark.parametrize("n_hits", [0, 1, 40, 3000])
def test_top_proteins_keeps_the_most_voted(n_hits):
    """The counting selection finds the same top votes as a brute force over every sequence's windows."""
    rng = np.random.default_rng(n_hits)
    n_seq, offset, k = 500, 60, 12
    hseq = rng.integers(0, n_seq, n_hits)
    hdiag = rng.integers(0, 400, n_hits) + offset
    # a few sequences with many hits on nearby diagonals, as true matches give
    for q in rng.integers(0, n_seq, 5 if n_hits > 1 else 0):
        m = int(rng.integers(2, 30))
        hseq = np.r_[hseq, np.full(m, q)]
        hdiag = np.r_[hdiag, rng.integers(100, 120, m) + offset]
    slot = np.zeros(n_seq, np.int32)
    seq, votes, hi, lo = _seed_kernels._top_proteins(hseq, hdiag, offset, 20, 32, k, slot)
    assert not slot.any()  # the work array is left zeroed
    truth = _brute_votes(hseq, hdiag, offset, 32)
    kept = seq >= 0
    assert kept.sum() == min(k, len(truth))
    assert all(truth[q] == v for q, v in zip(seq[kept].tolist(), votes[kept].tolist()))
    assert sorted(votes[kept].tolist(), reverse=True) == sorted(truth.values(), reverse=True)[:k]
    assert np.all(hi[kept] >= lo[kept]) and np.all(hi[kept] >= 0)


@pytest.fixture(scope="module")
def reads_and_index(data):
    ecoli = list(iter_fasta(data("proteomes/ecoli_k12_UP000000625.fasta")))[:600]
    index = build_index(io.StringIO("".join(f">{r.id}\n{r.sequence}\n" for r in ecoli[::2])))
    rng = np.random.default_rng(1)
    # present and absent whole proteins and peptides, with errors: decoys win some reads, paralogs compete
    proteins = [(r.id, r.sequence) for r in ecoli[:300]]
    sims = [simulate_reads(proteins, known="KCYM", efficiency=0.9, errors=ErrorModel.whatprot(), seed=2),
            simulate_reads(proteins, known="KCYM", efficiency=0.9, fragment="tryptic", min_length=6, seed=3)]
    reads = list(sims[0].reads) + [sims[1].reads[i] for i in rng.permutation(len(sims[1]))[:300]]
    return [reads[i] for i in rng.permutation(len(reads))], index


def test_cut_short_alignments_change_no_identification(reads_and_index, monkeypatch):
    reads, index = reads_and_index
    fast = identify_reads(reads, index, known="KCYM", efficiency=0.9)
    full_search = kern.search_batch

    def uncut(*args):  # the same search without cutting anything short
        return full_search(*args[:-5], False, np.inf, *args[-3:])  # prune, runner_window off

    monkeypatch.setattr(kern, "search_batch", uncut)
    full = identify_reads(reads, index, known="KCYM", efficiency=0.9)
    assert fast.decoy.sum() > 5 and fast.identified().sum() > 100  # both kinds of cut are exercised
    np.testing.assert_array_equal(fast.protein, full.protein)
    np.testing.assert_array_equal(fast.decoy, full.decoy)
    np.testing.assert_array_equal(fast.start, full.start)
    np.testing.assert_array_equal(fast.score, full.score)
    np.testing.assert_array_equal(fast.q_value, full.q_value)
    np.testing.assert_array_equal(fast.identified(), full.identified())
    # margins: exact below the runner window, at least the window otherwise (NaN: reads without a candidate)
    np.testing.assert_array_equal(np.isnan(fast.margin), np.isnan(full.margin))
    close = full.margin < identify.RUNNER_WINDOW
    far = full.margin >= identify.RUNNER_WINDOW
    assert close.sum() > 10 and far.sum() > 10
    np.testing.assert_array_equal(fast.margin[close], full.margin[close])
    assert np.all(fast.margin[far] >= identify.RUNNER_WINDOW)

