"""PairingResult's metrics (precision, recall) and per-pair columns, shared by every method."""

from __future__ import annotations

import numpy as np
import pytest

from protlm.io import MSA, PairedFamilies
from protlm.io import SpeciesBlock
from protlm.pairing._blocks import build_result
from protlm.pairing.export import random_pairing_precision
from protlm.pairing.random_pairing import pair_random
from protlm.pairing.result import PairingResult


def _result(right_rows, **kw):
    n = len(right_rows)
    rows = np.asarray(right_rows)
    return PairingResult(method="x", species=("s",) * n, left_rows=np.arange(n), right_rows=rows,
                         left_ids=tuple(map(str, range(n))), right_ids=tuple(str(r) if r >= 0 else None for r in rows),
                         confidence=np.where(rows >= 0, 0.5, np.nan), **kw)


@pytest.mark.parametrize("right_rows, truth, precision, recall", [
    ([0, 1, 2], {0: 0, 1: 1, 2: 2}, 1.0, 1.0),
    ([0, 1, -1], {0: 0, 1: 1, 2: 2}, 2 / 3, 2 / 3),     # a true pair left unpaired counts as wrong
    ([0, 2, -1], {0: 0, 1: 1}, 1 / 2, 1 / 2),
    ([0, 1, -1], {0: 0, 1: 1}, 1.0, 1.0),               # left 2 has no true partner: not counted
    ([0, 1, 2], {0: 0, 1: 1, 7: 7}, 1.0, 2 / 3),        # recall also counts true pairs outside the result
    ([0, 1, 2], {}, np.nan, np.nan),
])
def test_precision_and_recall(right_rows, truth, precision, recall):
    res = _result(right_rows)
    np.testing.assert_allclose([res.precision(truth), res.recall(truth)], [precision, recall])


def test_columns_default_and_validate():
    res = _result([1, 0])
    assert res.device == "cpu" and np.isnan(res.agreement).all()
    assert list(res.to_dataframe().columns) == ["species", "left_id", "right_id", "left_row", "right_row",
                                                "confidence", "agreement"]
    with pytest.raises(ValueError, match="agreement has 1 entries, expected 2"):
        _result([1, 0], agreement=np.array([1.0]))
    assert "device='cuda:0'" in repr(_result([1, 0], device="cuda:0"))


def test_unpaired_entries_have_no_confidence():
    block = SpeciesBlock("s", np.array([0, 1, 2]), np.array([5, 6]))
    res = build_result("x", [block], [{0: 6, 2: 5}], [{0: 0.9, 2: 0.4}], agreements={0: 1.0})
    by_left = {int(l): (c, a) for l, c, a in zip(res.left_rows, res.confidence, res.agreement)}
    assert by_left[0] == (0.9, 1.0) and by_left[2][0] == 0.4 and np.isnan(by_left[2][1])
    assert np.isnan(by_left[1]).all() and len(res) == 3 and res.n_pairs == 2


def test_random_expectation_uses_the_same_precision_on_unequal_blocks():
    # species a: 3 left, 2 right (one left always unpaired); species b: 2 and 2; truth for four left sequences
    left = MSA.from_sequences(["AC", "AD", "AE", "AF", "AG"], ids=["l0_a", "l1_a", "l2_a", "l3_b", "l4_b"])
    right = MSA.from_sequences(["KL", "KM", "KN", "KP"], ids=["r0_a", "r1_a", "r2_b", "r3_b"])
    paired = PairedFamilies.from_msas(left, right, species_key="field:_:-1", truth={0: 0, 1: 1, 3: 2, 4: 3})
    results = [pair_random(paired, seed=s) for s in range(4000)]
    assert all(r.n_pairs == 4 for r in results)
    observed = np.mean([r.precision(paired.truth) for r in results])
    # a: 2 true pairs x 1/3, b: 2 x 1/2, over 4 left sequences with a partner
    assert random_pairing_precision(paired) == pytest.approx((2 / 3 + 1) / 4)
    assert observed == pytest.approx(random_pairing_precision(paired), abs=0.01)
