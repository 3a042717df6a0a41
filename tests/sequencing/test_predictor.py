import numpy as np
import pytest

from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.backends import FrequencyBackend, residue_frequencies
from protlm.sequencing.masking import window_bounds
from protlm.sequencing.predictor import _plan_windows, predict_reads
from protlm.sequencing.reads import PartialRead
from protlm.sequencing.simulate import simulate_reads


@pytest.mark.parametrize("length", [1, 29, 30, 31, 100, 1000])
def test_windows_cover_every_position_once(length):
    plan = _plan_windows([length], 32, 8)
    owned = np.zeros(length, dtype=int)
    for _, s, e, own_s, own_e in plan:
        assert s <= own_s < own_e <= e and e - s <= 30
        owned[own_s:own_e] += 1
    assert (owned == 1).all()
    assert window_bounds(length, 32, overlap=8)[-1][1] == length


def test_long_reads_are_windowed_like_short_ones(tiny_backend):
    """A position's scores come from one window: a read longer than the window still
    gets the same prediction in its first window's core as its prefix alone."""
    rng = np.random.default_rng(0)
    read = "".join(rng.choice(list("KCXXXXXXXX"), size=200))
    # without terminus markers, the first window of the long read and the prefix read see the same tokens
    whole = predict_reads([PartialRead("a", read)], known="KC", backend=tiny_backend, overlap=8, termini=False)
    assert len(whole.sequences[0]) == 200
    assert whole.info["windows"] > 1
    p = whole.read_probabilities(0)
    assert np.allclose(p.sum(axis=1), 1, atol=1e-5)
    _, start, stop, own_start, own_stop = _plan_windows([200], tiny_backend.max_len, 8)[0]
    assert (start, own_start) == (0, 0) and own_stop < stop < 200
    prefix = predict_reads([PartialRead("a", read[:stop])], known="KC", backend=tiny_backend, overlap=8,
                           termini=False)
    assert prefix.info["windows"] == 1
    assert np.allclose(prefix.read_probabilities(0)[:own_stop], p[:own_stop], atol=1e-5)
    assert prefix.sequences[0][:own_stop] == whole.sequences[0][:own_stop]
    # and the rest of the read did change what a position outside the core would see
    assert not np.allclose(prefix.read_probabilities(0)[own_stop:stop], p[own_stop:stop], atol=1e-6)


def test_batching_does_not_change_results(tiny_backend, ecoli_records):
    sim = simulate_reads(ecoli_records[:10], known="KCYM")
    a = predict_reads(sim.reads, known="KCYM", backend=tiny_backend, batch_tokens=256)
    b = predict_reads(sim.reads, known="KCYM", backend=tiny_backend, batch_tokens=100_000)
    assert a.sequences == b.sequences
    assert np.allclose(a.probabilities, b.probabilities, atol=1e-5)


def test_most_frequent_baseline(ecoli_records):
    freq = residue_frequencies(r.sequence for r in ecoli_records)
    backend = FrequencyBackend(freq)
    sim = simulate_reads(ecoli_records[:5], known="KCYM")
    pred = predict_reads(sim.reads, known="KCYM", backend=backend)
    allowed = [a for a in AMINO_ACIDS if a not in "KCYM"]
    best = max(allowed, key=lambda a: freq[AMINO_ACIDS.index(a)])
    assert best == "L"
    for read, seq in zip(pred.reads, pred.sequences):
        assert all((s == best) if r == "X" else (s == r) for r, s in zip(read, seq))


def test_dataframe_and_write(tiny_backend, tmp_path):
    from protlm.io import read_fasta

    pred = predict_reads([PartialRead("a", "XKXXC"), PartialRead("b", "KX")], known="KC", backend=tiny_backend)
    df = pred.to_dataframe()
    assert list(df.columns) == ["read_id", "position", "observed", "predicted", "probability", "alt1",
                                "alt1_probability", "alt2", "alt2_probability"]
    assert df["position"].tolist() == [1, 2, 3, 4, 5, 1, 2]
    x = df[df.observed == "X"]
    assert (x.probability >= x.alt1_probability).all() and (x.alt1_probability >= x.alt2_probability).all()
    assert (df[df.observed != "X"].probability == 1).all()
    pred.write(tmp_path)
    recs = read_fasta(tmp_path / "predictions.fasta")
    assert [r.sequence for r in recs] == list(pred.sequences)
    assert "known=CK" in recs[0].description
    assert "Prediction(n_reads=2" in repr(pred)


def test_refinement_changes_nothing_at_read_letters(tiny_backend, ecoli_records):
    sim = simulate_reads(ecoli_records[:4], known="KCYM")
    pred = predict_reads(sim.reads, known="KCYM", backend=tiny_backend, refine=3)
    assert pred.info["passes"] == 4
    for read, seq in zip(pred.reads, pred.sequences):
        assert all(r == s for r, s in zip(read, seq) if r != "X")


def test_bad_arguments(tiny_backend):
    with pytest.raises(ValueError, match="efficiency"):
        predict_reads([PartialRead("a", "XK")], known="K", backend=tiny_backend, efficiency=1.5)
    with pytest.raises(TypeError):
        predict_reads(["XK"], known="K", backend=tiny_backend)


class _RecordingBackend:
    """Frequency scores, and a record of every token window it was given."""

    name = "recording"
    max_len = 64

    def __init__(self):
        self.windows = []

    def window_logits(self, tokens, known, efficiency):
        self.windows.extend(np.asarray(tokens).tolist())
        return np.zeros((*np.asarray(tokens).shape, 20), dtype=np.float32)


@pytest.mark.parametrize("termini", [True, False])
def test_peptide_reads_get_no_terminus_markers(termini):
    from protlm.models.alphabet import BOS_TOKEN, EOS_TOKEN, PAD_TOKEN

    backend = _RecordingBackend()
    reads = [PartialRead("short", "XKXXCX"), PartialRead("long", "XK" * 70)]  # the long one needs 3 windows
    pred = predict_reads(reads, known="KC", backend=backend, termini=termini, overlap=8)
    assert pred.info["termini"] is termini and [len(s) for s in pred.sequences] == [6, 140]
    markers = sum(t in (BOS_TOKEN, EOS_TOKEN) for w in backend.windows for t in w)
    assert markers == (4 if termini else 0)
    body = sum(t != PAD_TOKEN for w in backend.windows for t in w) - markers
    assert body >= 146  # every residue seen (overlaps add more)


def test_peptide_training_windows(ecoli_records):
    from protlm.models.alphabet import BOS_TOKEN, EOS_TOKEN, PAD_TOKEN, encode_residues
    from protlm.sequencing.masking import make_batch

    seqs = [encode_residues(r.sequence) for r in ecoli_records[:16]]
    batch = make_batch(seqs, np.random.default_rng(0), max_len=256, p_fragment=1.0, fragment_lengths=(6, 20))
    lengths = (batch["tokens"] != PAD_TOKEN).sum(axis=1)
    assert lengths.min() >= 6 and lengths.max() <= 20
    assert not np.isin(batch["tokens"], [BOS_TOKEN, EOS_TOKEN]).any()
