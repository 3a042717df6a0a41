"""DiffPaSS adapter: the missing-extra error always; a tiny end-to-end run when the package is installed."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from protlm.errors import ProtlmError
from protlm.io import MSA, PairedFamilies
from protlm.pairing.diffpass import DiffPaSSMissingError, pair_diffpass

AA = "ACDEFGHIKLMNPQRSTVWY"


def planted(n_species=3, size=4, length=6, seed=0):
    """Right sequences mirror their left partners; rows listed in true order, species of ``size``."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, size=(n_species * size, length))
    left = ["".join(AA[c] for c in row) for row in codes]
    right = [s[::-1] for s in left]
    ids = [f"p{i}|sp{i // size}" for i in range(len(left))]
    msa = MSA.from_sequences([a + b for a, b in zip(left, right)], ids=ids)
    return PairedFamilies.from_concatenated(msa, split_at=length, species_key="field:|:2", truth="same-order")


def test_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "diffpass", None)  # makes `import diffpass...` raise ImportError
    monkeypatch.setitem(sys.modules, "diffpass.train", None)
    with pytest.raises(DiffPaSSMissingError, match=r"pip install 'protlm\[diffpass\]'") as info:
        pair_diffpass(planted())
    assert isinstance(info.value, ImportError) and isinstance(info.value, ProtlmError)


def test_unknown_option_lists_the_valid_ones():
    with pytest.raises(ProtlmError, match="valid: .*n_start"):
        pair_diffpass(planted(), epochs=3)


@pytest.mark.slow
def test_end_to_end_on_a_planted_problem(monkeypatch):
    pytest.importorskip("diffpass")
    import torch._dynamo

    # DiffPaSS torch.compile's its Sinkhorn operator: tens of seconds of compiling for a tiny problem.
    monkeypatch.setattr(torch._dynamo.config, "disable", True)
    paired = planted(n_species=2, size=4)
    state = np.random.get_state()
    res = pair_diffpass(paired, seed=0, device="cpu")
    assert np.random.get_state()[1].tolist() == state[1].tolist()  # global generator untouched
    assert res.method == "diffpass" and res.n_pairs == 8 and res.n_species == 2
    assert np.all((res.confidence >= 0) & (res.confidence <= 1))
    assert res.device == "cpu" and res.info["device"] == "cpu" and np.isnan(res.agreement).all()
    assert res.precision(paired.truth) >= 0.5  # random would get 0.25 on average
    again = pair_diffpass(paired, seed=0, device="cpu")
    assert again.mapping() == res.mapping()
    # known pairs are DiffPaSS fixed pairings and come back as given
    known = {0: 1, 1: 0}
    fixed = pair_diffpass(paired, known_pairs=known, seed=0, device="cpu")
    assert all(fixed.mapping()[l] == r for l, r in known.items())
