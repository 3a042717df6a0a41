import numpy as np
import pytest

from protlm.sequencing.backends import FrequencyBackend
from protlm.sequencing.evaluate import TruthError, evaluate_prediction, read_truth
from protlm.sequencing.predictor import predict_reads
from protlm.sequencing.reads import PartialRead


@pytest.fixture
def pred():
    freq = np.full(20, 0.04)
    freq[9] = 0.24  # L
    reads = [PartialRead("a", "MXXKX"), PartialRead("b", "XXXX")]
    return predict_reads(reads, known="KCYM", backend=FrequencyBackend(freq))


def test_accuracies_by_hand(pred):
    ev = evaluate_prediction(pred, {"a": "MLAKL", "b": "LLAU"})
    # masked: a -> L,A,L (2/3), b -> L,L,A (2/3; U not scored)
    assert ev.n_masked == 6 and ev.n_nonstandard == 1
    assert ev.accuracy_masked == pytest.approx(4 / 6)
    assert ev.accuracy_masked_per_read == pytest.approx(2 / 3)
    assert ev.accuracy_all == pytest.approx(6 / 8)
    assert ev.per_residue_recall == {"A": 0.0, "L": 1.0}
    # decoded: L 0.24/0.84, every other allowed letter 0.04/0.84; ties go in alphabet order (A, D, ...)
    assert ev.top3_accuracy_masked == pytest.approx(1.0)
    assert ev.log_loss_masked == pytest.approx((4 * np.log(0.84 / 0.24) + 2 * np.log(0.84 / 0.04)) / 6)
    assert ev.confusion.sum() == 6
    assert sum(ev.calibration["count"]) == 6
    s = ev.summary()
    assert s["accuracy_masked"] == ev.accuracy_masked and "per_residue_recall" in s
    assert s["log_loss_masked"] == ev.log_loss_masked and s["top3_accuracy_masked"] == 1.0
    assert list(ev.to_dataframe().columns) == ["residue", "n_masked", "recall", "n_predicted"]


@pytest.mark.parametrize("truth, message", [
    ({"a": "MLAKL"}, "no truth sequence for read 'b'"),
    ({"a": "MLAK", "b": "LLAA"}, "truth has 4 residues, the read 5"),
    ({"a": "MLAML", "b": "LLAA"}, "read 'a', position 4: read letter 'K' differs"),
])
def test_truth_mismatch(pred, truth, message):
    with pytest.raises(TruthError, match=message):
        evaluate_prediction(pred, truth)


def test_read_truth(tmp_path):
    p = tmp_path / "t.fasta"
    p.write_text(">a\nMLAKL\n>z\nAAA\n")
    assert read_truth(p, ["a"]) == {"a": "MLAKL"}
    with pytest.raises(TruthError, match="first 'b'"):
        read_truth(p, ["a", "b"])
