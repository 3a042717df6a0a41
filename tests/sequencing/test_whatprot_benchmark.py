"""The Whatprot comparison's conversions (benchmarks/_whatprot.py): a read and its radiometry hold the same letters."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def wp(benchmark_module):
    return benchmark_module("_whatprot")


def _letters_back(rad, known, timesteps):
    """Invert a radiometry: a drop of one in channel c between timesteps t and t + 1 is letter c at position t."""
    counts = np.asarray(rad).reshape(timesteps, len(known))
    read = ["X"] * (timesteps - 1)
    for t in range(timesteps - 1):
        for c in np.flatnonzero(counts[t] - counts[t + 1]):
            assert counts[t, c] - counts[t + 1, c] == 1
            read[t] = known[c]
    return "".join(read).rstrip("X")


@pytest.mark.parametrize("read", ["MXKXCXXYXXKXXM", "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXC", "KKKK", "XYXXXXXM"])
def test_radiometry_holds_exactly_the_reads_letters(wp, read):
    rad = wp.radiometry(read, "KCYM", 31)
    assert len(rad) == 31 * 4
    assert rad[:4] == [read.count(a) for a in "KCYM"]  # before the first cycle every dye shines
    assert rad[-4:] == [0, 0, 0, 0]  # after 30 cycles a read of <= 30 positions has shown every letter
    assert _letters_back(rad, "KCYM", 31) == read.rstrip("X")


def test_dye_string_and_digest_truncate_to_the_cycles_read(wp):
    assert wp.dye_string("AKCAAY", "KCYM") == ".01..2"
    assert wp.dye_string("AAAAK" * 8, "KCYM", cycles=30) == ("....0" * 6)
    assert wp.dye_string("AAAAK" * 8 + "C", "KCYM", cycles=10) == "....0....0"
    assert wp.dye_string("AAAAAAA", "KCYM") == ""


def test_oracle_fdr_threshold(wp):
    # by score: right, right, wrong, right x 97: at 1 % the first wrong one is allowed from 100 reads on
    scores = np.arange(100, 0, -1.0)
    right = np.ones(100, dtype=bool)
    right[2] = False
    assert wp._fdr_oracle(scores, right) == 100
    assert wp._fdr_oracle(scores[:50], right[:50]) == 2
    assert wp._fdr_oracle(scores, np.zeros(100, dtype=bool)) == 0
