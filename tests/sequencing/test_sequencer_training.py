import json

import pytest

from protlm.models.sequencer import load_sequencer
from protlm.sequencing.backends import ModelBackend
from protlm.sequencing.predictor import predict_reads
from protlm.sequencing.simulate import simulate_reads
from protlm.sequencing.training import TrainingConfig, train_sequencer

TINY = dict(d_model=16, n_layers=1, n_heads=2, d_ff=32, max_len=64, batch_size=8, n_valid=16, warmup_steps=2)


@pytest.fixture(scope="module")
def proteins(ecoli_records):
    seqs = [r.sequence for r in ecoli_records]
    return seqs[:32], seqs[32:]


@pytest.mark.slow
def test_tiny_training_checkpoint_loads_and_predicts(tmp_path, proteins, ecoli_records):
    train, valid = proteins
    result = train_sequencer(train, valid, tmp_path, config=TrainingConfig(max_steps=6, eval_every=3, **TINY),
                             device="cpu", metadata={"name": "tiny"})
    assert result.step == 6 and result.stopped == "max_steps"
    assert len(result.history) == 2
    assert result.best_path.exists() and (tmp_path / "checkpoint.pt").exists()
    model, meta = load_sequencer(result.best_path)
    assert meta["training_config"]["max_steps"] == 6 and meta["step"] in (3, 6)
    backend = ModelBackend(model)
    sim = simulate_reads(ecoli_records[:3], known="KCYM")
    pred = predict_reads(sim.reads, known="KCYM", backend=backend)
    assert [len(s) for s in pred.sequences] == [len(t) for t in sim.truths]
    assert json.loads((tmp_path / "history.json").read_text())[-1]["step"] == 6


def test_rerun_resumes(tmp_path, proteins):
    train, valid = proteins
    first = train_sequencer(train, valid, tmp_path, config=TrainingConfig(max_steps=4, eval_every=2, **TINY), device="cpu")
    assert first.step == 4
    again = train_sequencer(train, valid, tmp_path, config=TrainingConfig(max_steps=6, eval_every=2, **TINY), device="cpu")
    assert again.step == 6
    assert [h["step"] for h in again.history] == [2, 4, 6]  # steps 1-4 were not redone


def test_resume_matches_uninterrupted(tmp_path, proteins):
    """Random states are checkpointed: a run killed after step 3 and rerun ends with
    the same weights as an uninterrupted run."""
    import torch

    train, valid = proteins
    cfg = TrainingConfig(max_steps=4, eval_every=2, **TINY)

    def crash(step, **_):
        if step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_sequencer(train, valid, tmp_path / "a", config=cfg, device="cpu", callback=crash)
    resumed = train_sequencer(train, valid, tmp_path / "a", config=cfg, device="cpu")
    assert resumed.step == 4
    train_sequencer(train, valid, tmp_path / "b", config=cfg, device="cpu")
    a = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_early_stopping(tmp_path, proteins):
    train, valid = proteins
    cfg = TrainingConfig(max_steps=200, eval_every=1, patience=1, lr=10.0, **TINY)
    result = train_sequencer(train, valid, tmp_path, config=cfg, device="cpu")
    assert result.stopped == "early_stopping" and result.step < 200


def test_needs_data(tmp_path):
    from protlm.errors import ProtlmError

    with pytest.raises(ProtlmError, match="validation"):
        train_sequencer(["MKV" * 10], [], tmp_path, config=TrainingConfig(**TINY), device="cpu")


def test_training_windows_are_contiguous_pieces_of_the_protein(ecoli_records):
    """Every training window is a full-length stretch of its protein, markers only at real termini."""
    import numpy as np

    from protlm.models.alphabet import BOS_TOKEN, EOS_TOKEN, PAD_TOKEN, encode_residues
    from protlm.sequencing.masking import make_batch

    seqs = [encode_residues(r.sequence) for r in ecoli_records[:8]]
    rng = np.random.default_rng(3)
    for _ in range(20):
        batch = make_batch(seqs, rng, max_len=64, p_hint=0.0)
        for row, tgt, seq in zip(batch["tokens"], batch["targets"], seqs):
            row, tgt = row[row != PAD_TOKEN], tgt[: (row != PAD_TOKEN).sum()]
            body = (row != BOS_TOKEN) & (row != EOS_TOKEN)
            assert body.sum() == min(len(seq), 62)
            residues = np.where(tgt[body] >= 0, tgt[body], row[body])  # truth where hidden, the read letter elsewhere
            starts = [i for i in range(len(seq) - len(residues) + 1) if np.array_equal(seq[i:i + len(residues)], residues)]
            assert starts
            assert (row[0] == BOS_TOKEN) == (0 in starts)
            assert (row[-1] == EOS_TOKEN) == (len(seq) - len(residues) in starts)


def test_conv_architecture_trains_loads_and_ignores_padding(tmp_path, proteins, ecoli_records):
    import torch

    from protlm.models.alphabet import PAD_TOKEN

    train, valid = proteins
    config = TrainingConfig(arch="conv", d_model=16, n_layers=2, kernel_size=5, max_len=64, batch_size=8, n_valid=16,
                            warmup_steps=2, max_steps=4, eval_every=2)
    result = train_sequencer(train, valid, tmp_path, config=config, device="cpu")
    model, meta = load_sequencer(result.best_path)
    assert model.config["arch"] == "conv" and meta["training_config"]["arch"] == "conv"
    tok = torch.randint(0, 21, (1, 40))
    padded = torch.cat([tok, torch.full((1, 17), PAD_TOKEN)], dim=1)
    k, e = torch.zeros(1, 20), torch.ones(1)
    with torch.inference_mode():
        assert torch.allclose(model(tok, k, e), model(padded, k, e)[:, :40], atol=1e-5)
    sim = simulate_reads(ecoli_records[:3], known="KCYM")
    pred = predict_reads(sim.reads, known="KCYM", backend=ModelBackend(model))
    assert [len(s) for s in pred.sequences] == [len(t) for t in sim.truths]


def test_unknown_architecture_in_weights_is_a_format_error(tmp_path):
    import torch

    from protlm.errors import FormatError
    from protlm.models.sequencer import FORMAT

    path = tmp_path / "w.pt"
    torch.save({"format": FORMAT, "format_version": 1, "config": {"arch": "lstm"}, "state_dict": {}}, path)
    with pytest.raises(FormatError, match="lstm"):
        load_sequencer(path)
