"""The search's shortcuts change nothing it reports: radix sort, and alignments cut short once they cannot matter."""

import io

import numpy as np
import pytest

from protlm.io import iter_fasta
from protlm.sequencing import _identify_kernels as kern
from protlm.sequencing import identify
from protlm.sequencing.error_model import ErrorModel
from protlm.sequencing.identify import identify_reads
from protlm.sequencing.index import build_index
from protlm.sequencing.simulate import simulate_reads


@pytest.mark.parametrize("n", [0, 1, 255, 256, 3000, 20000])
def test_radix_sort_matches_numpy(n):
    rng = np.random.default_rng(n)
    a = rng.integers(0, 1 << 40, n, dtype=np.int64)
    a[: n // 3] = a[n // 2: n // 2 + n // 3] if n > 3 else a[: n // 3]  # repeated values
    assert np.array_equal(kern._radix_sort(a), np.sort(a))
    b = a - (1 << 39)  # negative values: the np.sort path
    assert np.array_equal(kern._radix_sort(b), np.sort(b))


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
        return full_search(*args[:-2], False, np.inf)

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

