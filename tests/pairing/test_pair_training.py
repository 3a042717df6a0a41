"""Training a family MSA Transformer: CLI, resume, loading in `protlm pair`, masking, the demo model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from protlm.cli import main
from protlm.errors import OutputExistsError, PairingInputError
from protlm.pairing.mlm import mask_rows, pair_tokens, pairing_gap
from protlm.pairing.training import TrainingConfig, train_pair_model

TINY = dict(layers=1, embed_dim=16, attention_heads=2, depth=8, val_msas=1, val_fraction=0.3)


@pytest.fixture(scope="module")
def alphabet():
    import esm

    return esm.data.Alphabet.from_architecture("msa_transformer")


@pytest.fixture(scope="module")
def malg_small(data, tmp_path_factory):
    """The first 40 MalG/MalK pairs (7 species), as two FASTA files."""
    out = tmp_path_factory.mktemp("malg")
    for name in ("malg", "malk"):
        text = (data(f"pairing/{name}.fasta")).read_text()
        records = text.split(">")[1:41]
        (out / f"{name}.fasta").write_text("".join(">" + r for r in records))
    return out / "malg.fasta", out / "malk.fasta"


@pytest.fixture(scope="module")
def malg_tokens(malg_small, alphabet):
    from protlm.io import PairedFamilies, read_msa

    paired = PairedFamilies.from_msas(read_msa(malg_small[0]), read_msa(malg_small[1]),
                                      species_key="field:_:-1", truth="same-order")
    return pair_tokens(paired, alphabet), paired.left.n_columns


@pytest.mark.slow
def test_cli_trains_a_model_that_protlm_pair_loads(malg_small, tmp_path):
    left, right = malg_small
    runner = CliRunner()
    res = runner.invoke(main, [
        "train-pair-model", str(left), str(right), "-o", str(tmp_path / "model"), "--species-key", "field:_:-1",
        "--layers", "1", "--embed-dim", "16", "--heads", "2", "--depth", "8", "--steps", "3", "--val-every", "3",
        "--val-fraction", "0.3", "--threads", "1",
    ])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "model" / "report.json").read_text())
    assert report["steps_done"] == 3 and report["n_training_pairs"] == 40
    weights = tmp_path / "model" / "model.pt"
    res = runner.invoke(main, [
        "pair", str(left), str(right), "-o", str(tmp_path / "pairs"), "--weights", str(weights),
        "--species-key", "field:_:-1", "--truth", "same-order", "--steps", "2", "--threads", "1",
    ])
    assert res.exit_code == 0, res.output
    pair_report = json.loads((tmp_path / "pairs" / "report.json").read_text())
    assert pair_report["weights"]["layers"] == 1 and pair_report["weights"]["embed_dim"] == 16
    assert "precision" in pair_report


def test_cli_rejects_missing_truth_and_both_inputs_forms(malg_small, tmp_path):
    left, right = malg_small
    res = CliRunner().invoke(main, ["train-pair-model", str(left), str(right), "--split-at", "5", "-o", str(tmp_path)])
    assert res.exit_code == 2 and "either LEFT and RIGHT" in res.output


def _state(path):
    return torch.load(path / "state.pt", map_location="cpu", weights_only=False)


def test_resume_continues_exactly_where_it_stopped(malg_tokens, tmp_path):
    (tokens, species), split_at = malg_tokens
    # warm-up longer than the run: the learning rate does not depend on the planned number of steps
    cfg = dict(TINY, warmup=50, val_every=2)
    straight = train_pair_model(tokens, species, tmp_path / "a", split_at=split_at,
                                config=TrainingConfig(steps=4, **cfg), device="cpu")
    first = train_pair_model(tokens, species, tmp_path / "b", split_at=split_at,
                             config=TrainingConfig(steps=2, **cfg), device="cpu")
    assert first.steps_done == 2
    resumed = train_pair_model(tokens, species, tmp_path / "b", split_at=split_at,
                               config=TrainingConfig(steps=4, **cfg), device="cpu")
    assert resumed.steps_done == straight.steps_done == 4
    assert resumed.history["step"] == [2, 4]
    a, b = _state(tmp_path / "a")["model"], _state(tmp_path / "b")["model"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)
    # a finished run returns at once, without another step
    again = train_pair_model(tokens, species, tmp_path / "b", split_at=split_at,
                             config=TrainingConfig(steps=4, **cfg), device="cpu")
    assert again.steps_done == 4 and again.history == resumed.history


def test_rerun_with_other_settings_is_refused(malg_tokens, tmp_path):
    (tokens, species), split_at = malg_tokens
    train_pair_model(tokens, species, tmp_path, split_at=split_at,
                     config=TrainingConfig(steps=1, val_every=1, **TINY), device="cpu")
    other = TrainingConfig(steps=1, val_every=1, **dict(TINY, embed_dim=32))
    with pytest.raises(OutputExistsError, match="embed_dim: 16 -> 32"):
        train_pair_model(tokens, species, tmp_path, split_at=split_at, config=other, device="cpu")
    result = train_pair_model(tokens, species, tmp_path, split_at=split_at, config=other, device="cpu", overwrite=True)
    assert result.steps_done == 1


def test_invalid_options_and_inputs(malg_tokens, tmp_path):
    (tokens, species), split_at = malg_tokens
    with pytest.raises(PairingInputError, match="embed_dim"):
        TrainingConfig(embed_dim=10, attention_heads=4)
    with pytest.raises(PairingInputError, match="at least 2 species"):
        train_pair_model(tokens[:3], ["s"] * 3, tmp_path, split_at=split_at, config=TrainingConfig(**TINY))
    with pytest.raises(PairingInputError, match="split_at"):
        train_pair_model(tokens, species, tmp_path, split_at=tokens.shape[1], config=TrainingConfig(**TINY))


@pytest.mark.parametrize("mode", ["left", "right", "mlm"])
def test_masking_modes(mode, alphabet):
    rng = np.random.default_rng(0)
    tokens = rng.integers(4, 24, size=(20, 31))
    tokens[:, 0] = alphabet.cls_idx
    masked, target = mask_rows(tokens, split_at=10, mode=mode, rng=rng, alphabet=alphabet, chain_mask_prob=0.7)
    assert not target[:, 0].any()
    assert (masked[~target] == tokens[~target]).all()
    left, right = target[:, 1:11], target[:, 11:]
    if mode == "left":
        assert not right.any() and 0.6 < left.mean() < 0.8
        assert (masked[target] == alphabet.mask_idx).all()
    elif mode == "right":
        assert not left.any() and 0.6 < right.mean() < 0.8
    else:
        assert 0.08 < target.mean() < 0.25 and left.any() and right.any()


def test_pairing_gap_is_zero_for_a_model_blind_to_the_right_chain(malg_tokens, alphabet):
    """A model whose logits do not depend on the input cannot tell true from shuffled pairs."""
    (tokens, species), split_at = malg_tokens

    class Constant(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bias = torch.nn.Parameter(torch.zeros(len(alphabet)))

        def forward(self, toks):
            return {"logits": self.bias.expand(*toks.shape, len(alphabet))}

    gap = pairing_gap(Constant(), [(tokens, species)], split_at=split_at, alphabet=alphabet)
    assert gap["loss_true"] == pytest.approx(np.log(len(alphabet)), rel=1e-5)
    assert gap["gap"] == pytest.approx(0.0, abs=1e-6)


def test_demo_weights_are_shipped_and_load():
    from protlm.models.demo import demo_weights_path
    from protlm.models.esm_msa import load_msa_transformer

    model, _ = load_msa_transformer(demo_weights_path())
    assert model.args.layers == 4 and model.args.embed_dim == 64
    assert demo_weights_path().stat().st_size < 5e6


@pytest.mark.slow
def test_quick_start_pairs_the_bundled_example_with_the_demo_model(repo_root, tmp_path):
    """The README quick start, offline, with few steps (the full run takes a couple of minutes)."""
    res = CliRunner().invoke(main, [
        "pair", str(repo_root / "data" / "malg_example.fasta"), str(repo_root / "data" / "malk_example.fasta"),
        "-o", str(tmp_path), "--weights", "demo", "--species-key", "field:_:-1", "--truth", "same-order",
        "--steps", "2", "--no-download", "--threads", "1",
    ])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["weights"]["path"].endswith("malg_malk_demo.pt")
    assert len((tmp_path / "pairs.tsv").read_text().splitlines()) == 51


def test_bundled_example_holds_only_test_species_of_the_demo_model(repo_root):
    from protlm.io import read_msa

    training = json.loads((repo_root / "protlm" / "models" / "weights" / "malg_malk_demo.json").read_text())
    species = {i.rsplit("_", 1)[-1] for i in read_msa(repo_root / "data" / "malg_example.fasta").ids}
    assert len(species) == 7
    assert not species & set(training["train_species"]) and not species & set(training["val_species"])


def test_init_continues_from_a_fair_esm_checkpoint(malg_tokens, tmp_path):
    """--init: the architecture and weights come from the checkpoint, not from the size options."""
    (tokens, species), split_at = malg_tokens
    first = train_pair_model(tokens, species, tmp_path / "a", split_at=split_at,
                             config=TrainingConfig(steps=1, val_every=1, **TINY), device="cpu")
    cfg = TrainingConfig(steps=1, val_every=1, init=str(first.model_path), **dict(TINY, embed_dim=32))
    second = train_pair_model(tokens, species, tmp_path / "b", split_at=split_at, config=cfg, device="cpu")
    from protlm.models.esm_msa import load_msa_transformer

    model, _ = load_msa_transformer(second.model_path)
    assert model.args.embed_dim == 16 and second.steps_done == 1
