"""ESM-2 through fair-esm: tiny random checkpoints in fair-esm's format, loaded by the weights resolver."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from protlm.cli import main
from protlm.errors import ProtlmError, WeightsNotFoundError
from protlm.models.esm2 import ESM2Sequencer, build_esm2, is_esm2_name, load_esm2_sequencer, save_esm2_checkpoint
from protlm.models.alphabet import AMINO_ACIDS, known_vector
from protlm.sequencing.backends import ModelBackend
from protlm.sequencing.predictor import predict_reads
from protlm.sequencing.reads import PartialRead

NAME = "esm2_t6_8M_UR50D"


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    """Never touch the network or the user's caches."""
    monkeypatch.setenv("PROTLM_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    for var in ("PROTLM_ESM2_WEIGHTS", "PROTLM_WEIGHTS_DIR"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def tiny_esm2_file(tmp_path_factory):
    model = build_esm2(layers=2, embed_dim=32, heads=4, seed=3)
    return save_esm2_checkpoint(model.esm, tmp_path_factory.mktemp("esm2") / f"{NAME}.pt")


def test_checkpoint_is_fair_esm_format(tiny_esm2_file):
    import esm

    data = torch.load(tiny_esm2_file, weights_only=False)
    model, alphabet = esm.pretrained.load_model_and_alphabet_core(NAME, data)
    assert isinstance(model, esm.model.esm2.ESM2) and model.num_layers == 2 and model.embed_dim == 32
    ours = load_esm2_sequencer(NAME, weights=tiny_esm2_file)
    tokens = torch.tensor([[alphabet.cls_idx, alphabet.get_idx("M"), alphabet.mask_idx, alphabet.eos_idx]])
    model.eval()
    assert torch.allclose(model(tokens)["logits"], ours.esm(tokens)["logits"])


@pytest.mark.parametrize("how", ["file", "folder", "env", "weights-dir", "hub-cache"])
def test_resolver_finds_the_checkpoint(tiny_esm2_file, how, monkeypatch, tmp_path):
    weights = None
    if how == "file":
        weights = tiny_esm2_file
    elif how == "folder":
        weights = tiny_esm2_file.parent
    elif how == "env":
        monkeypatch.setenv("PROTLM_ESM2_WEIGHTS", str(tiny_esm2_file))
    elif how == "weights-dir":
        monkeypatch.setenv("PROTLM_WEIGHTS_DIR", str(tiny_esm2_file.parent))
    else:
        hub = tmp_path / "torch-home" / "hub" / "checkpoints"
        hub.mkdir(parents=True)
        (hub / f"{NAME}.pt").write_bytes(tiny_esm2_file.read_bytes())
    model = load_esm2_sequencer(NAME, weights=weights)
    assert isinstance(model, ESM2Sequencer) and model.esm.num_layers == 2


def test_missing_weights_error_lists_places():
    with pytest.raises(WeightsNotFoundError) as info:
        load_esm2_sequencer(NAME)
    msg = str(info.value)
    for place in ("--model", "$PROTLM_ESM2_WEIGHTS", "$PROTLM_WEIGHTS_DIR", "torch hub cache", "PROTLM_OFFLINE"):
        assert place in msg


def test_msa_checkpoint_is_refused(tmp_path):
    from protlm.models.esm_msa import build_msa_transformer, save_msa_checkpoint

    model, _, args = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64)
    path = save_msa_checkpoint(model, args, tmp_path / "msa.pt")
    with pytest.raises(ProtlmError, match="not an ESM-2 checkpoint"):
        load_esm2_sequencer(NAME, weights=path)


def test_adapter_equals_upstream_forward_and_survives_empty_windows():
    model = build_esm2(layers=2, embed_dim=32, heads=4, seed=1)
    tokens = torch.tensor([[22, 20, 8, 20, 1, 23], [20, 5, 20, 20, 21, 21]])  # <cls> X K X C <eos>; X C X X pad pad
    upstream = model.esm(model.token_map[tokens])["logits"][..., model.residue_columns]
    assert torch.allclose(model(tokens), upstream, atol=1e-5)
    odd = torch.tensor([[20, 20, 20, 20], [21, 21, 21, 21]])  # nothing read; padding only
    assert torch.isfinite(model(odd)).all()


def test_zero_shot_prediction_respects_the_known_set(tiny_esm2_file):
    backend = ModelBackend(load_esm2_sequencer(NAME, weights=tiny_esm2_file), name=NAME)
    reads = [PartialRead("a", "MXXKXXCXXXYX" * 10), PartialRead("b", "XXXXXXXX")]
    pred = predict_reads(reads, known="KCYM", backend=backend)
    probs = pred.probabilities[pred.unknown_mask()]
    assert np.allclose(probs.sum(1), 1, atol=1e-5)
    assert probs[:, known_vector("KCYM")].max() == 0.0
    assert not set("KCYM") & {c for s, r in zip(pred.sequences, pred.reads) for c, o in zip(s, r) if o == "X"}


def test_cli_sequence_with_esm2_and_finetune(tiny_esm2_file, tmp_path, data):
    reads = tmp_path / "reads.fasta"
    reads.write_text(">r1\nMXXKXXCXXXYXXXXKXX\n>r2\nXXCXXXXMXX\n")
    runner = CliRunner()
    res = runner.invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "o1"), "--known", "KCYM",
                               "--model", NAME, "--weights", str(tiny_esm2_file)])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "o1" / "report.json").read_text())
    assert report["prediction"]["backend"] == NAME and report["options"]["model"].endswith(f"{NAME}.pt")
    res = runner.invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "o2"), "--known", "KCYM", "--model", NAME])
    assert res.exit_code == 2 and "not found; searched" in res.output
    # fine-tune from the tiny checkpoint; the best weights are an ESM-2 checkpoint again
    proteins = data("proteomes/ecoli_k12_UP000000625.fasta")
    small = tmp_path / "small.fasta"
    small.write_text(">" + ">".join(proteins.read_text().split(">")[1:120]))
    res = runner.invoke(main, ["train-sequencer", str(small), "-o", str(tmp_path / "ft"), "--init", str(tiny_esm2_file),
                               "--max-steps", "4", "--eval-every", "2", "--batch-size", "4", "--max-len", "48",
                               "--threads", "1"])
    assert res.exit_code == 0, res.output
    tuned = load_esm2_sequencer(NAME, weights=tmp_path / "ft" / "best.pt")
    before = load_esm2_sequencer(NAME, weights=tiny_esm2_file)
    assert any(not torch.equal(a, b) for a, b in zip(tuned.state_dict().values(), before.state_dict().values()))
    # the one grammar: the fine-tuned file named by path (an ESM-2, told from protlm's format by content)
    res = runner.invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "o3"), "--known", "KCYM", "--model",
                               str(tmp_path / "ft" / "best.pt")])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "o3" / "report.json").read_text())
    assert report["options"]["model"] == str((tmp_path / "ft" / "best.pt").resolve())


def test_names():
    assert is_esm2_name(NAME) and not is_esm2_name("best.pt") and not is_esm2_name(None)
    assert len(AMINO_ACIDS) == 20
