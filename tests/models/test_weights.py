"""The weights resolver and the MSA Transformer loader, with tiny random checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from protlm.errors import ModelLimitError, ProtlmError, WeightsNotFoundError
from protlm.models.device import DeviceError, resolve_device
from protlm.models.esm_msa import (
    build_msa_transformer,
    check_msa_limits,
    gradient_checkpointing,
    load_msa_transformer,
    onehot_logits,
    save_msa_checkpoint,
)
from protlm.models.weights import MSA_MODEL_NAME, resolve_weights

NAME = MSA_MODEL_NAME + ".pt"


@pytest.fixture()
def clean_env(monkeypatch, tmp_path):
    """No weights anywhere: empty torch hub, no env vars, no downloads."""
    for var in ("PROTLM_MSA_WEIGHTS", "PROTLM_WEIGHTS_DIR", "PROTLM_ESM2_WEIGHTS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("PROTLM_OFFLINE", "1")
    return tmp_path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    model, alphabet, args = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64, seed=3)
    path = save_msa_checkpoint(model, args, tmp_path_factory.mktemp("w") / NAME)
    return model, alphabet, path


def _tokens(alphabet, n_rows=5, n_cols=12, seed=0):
    rng = np.random.default_rng(seed)
    aa = [alphabet.get_idx(c) for c in "ACDEFGHIKLMNPQRSTVWY-"]
    toks = rng.choice(aa, size=(1, n_rows, n_cols))
    toks[..., 0] = alphabet.cls_idx
    return torch.from_numpy(toks)


def test_saved_checkpoint_loads_in_fair_esm_and_protlm_identically(tiny):
    import esm.pretrained

    model, alphabet, path = tiny
    data = torch.load(path, weights_only=False)
    assert data["args"].arch == "msa_transformer" and data["args"].encoder_layers == 1
    # fair-esm's own loader reads it (names swapped back, no regression file needed)
    ref, _ = esm.pretrained.load_model_and_alphabet_core("tiny", data, None)
    ours, alph = load_msa_transformer(path)
    assert not any(p.requires_grad for p in ours.parameters()) and not ours.training
    toks = _tokens(alph)
    with torch.no_grad():
        a = model.eval()(toks)["logits"]
        b = ref.eval()(toks)["logits"]
        c = ours(toks)["logits"]
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, c)


def test_onehot_forward_matches_tokens_and_has_gradients(tiny):
    model, alphabet, path = tiny
    ours, alph = load_msa_transformer(path)
    toks = _tokens(alph)
    onehot = torch.nn.functional.one_hot(toks, len(alph)).float().requires_grad_(True)
    logits = onehot_logits(ours, onehot)
    with torch.no_grad():
        torch.testing.assert_close(logits, ours(toks)["logits"])
    logits.sum().backward()
    assert onehot.grad is not None and onehot.grad.abs().sum() > 0
    # the hook is removed afterwards
    assert not ours.embed_tokens._forward_hooks


def test_gradient_checkpointing_same_gradients(tiny):
    _, _, path = tiny
    ours, alph = load_msa_transformer(path)
    toks = _tokens(alph, n_rows=4, n_cols=9)
    grads = []
    for enabled in (False, True):
        onehot = torch.nn.functional.one_hot(toks, len(alph)).float().requires_grad_(True)
        with gradient_checkpointing(ours, enabled):
            onehot_logits(ours, onehot).pow(2).mean().backward()
        grads.append(onehot.grad)
    torch.testing.assert_close(grads[0], grads[1])
    assert "forward" not in vars(ours.layers[0])  # patch undone


def test_resolver_order_path_env_dir_cache(clean_env, tiny, monkeypatch):
    _, _, path = tiny
    # nothing configured -> error listing every place searched
    with pytest.raises(WeightsNotFoundError) as info:
        resolve_weights()
    msg = str(info.value)
    for place in ("--model (not given)", "$PROTLM_MSA_WEIGHTS (not set)", "$PROTLM_WEIGHTS_DIR (not set)",
                  "torch hub cache", "download through fair-esm (disabled by $PROTLM_OFFLINE)",
                  "https://dl.fbaipublicfiles.com/fair-esm/models/esm_msa1b_t12_100M_UR50S.pt"):
        assert place in msg
    assert "\n" not in msg
    # the torch hub cache (as fair-esm fills it), without the contact-regression file
    hub = clean_env / "torch_home" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / NAME).write_bytes(path.read_bytes())
    assert resolve_weights().source == "torch-hub-cache"
    # $PROTLM_WEIGHTS_DIR beats the cache
    wdir = clean_env / "wdir"
    wdir.mkdir()
    (wdir / NAME).write_bytes(path.read_bytes())
    monkeypatch.setenv("PROTLM_WEIGHTS_DIR", str(wdir))
    assert resolve_weights().source == "env:PROTLM_WEIGHTS_DIR"
    # the per-model variable beats the folder
    monkeypatch.setenv("PROTLM_MSA_WEIGHTS", str(path))
    assert resolve_weights().source == "env:PROTLM_MSA_WEIGHTS"
    # an explicit path beats everything; a folder is searched for <name>.pt
    assert resolve_weights(path=wdir).path == (wdir / NAME).resolve()
    assert resolve_weights(path=path).source == "path"


def test_named_missing_path_is_an_error_not_a_fallback(clean_env, tiny, monkeypatch):
    _, _, path = tiny
    monkeypatch.setenv("PROTLM_MSA_WEIGHTS", str(path))  # valid weights elsewhere must not be used instead
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        resolve_weights(path=clean_env / "nope.pt")
    monkeypatch.setenv("PROTLM_MSA_WEIGHTS", str(clean_env / "gone.pt"))
    with pytest.raises(WeightsNotFoundError, match=r"\$PROTLM_MSA_WEIGHTS=.*gone.pt \(does not exist\)"):
        resolve_weights()


def test_loader_rejects_non_msa_checkpoint(tmp_path):
    bad = tmp_path / "bad.pt"
    torch.save({"model": {}}, bad)
    with pytest.raises(ProtlmError, match="not an MSA Transformer checkpoint"):
        load_msa_transformer(bad)
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    with pytest.raises(ProtlmError, match="not a torch checkpoint"):
        load_msa_transformer(junk)


def test_limits_and_device(tiny):
    model, _, _ = tiny
    check_msa_limits(model, 1024, 1024)
    with pytest.raises(ModelLimitError, match="1025 rows"):
        check_msa_limits(model, 1025, 10)
    with pytest.raises(ModelLimitError, match="1100 columns"):
        check_msa_limits(model, 10, 1100)
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(DeviceError, match="choose one of"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="CUDA is not available"):
            resolve_device("cuda")


def test_one_resolver_for_every_model_kind(tmp_path, monkeypatch):
    """The sequencer and the demo model are found by the same resolver and order as fair-esm's models."""
    from protlm.models.weights import DEMO_MODEL_NAME, SEQUENCER_MODEL_NAME, resolve_weights

    for var in ("PROTLM_SEQUENCER_WEIGHTS", "PROTLM_DEMO_WEIGHTS", "PROTLM_WEIGHTS_DIR"):
        monkeypatch.delenv(var, raising=False)
    assert resolve_weights(SEQUENCER_MODEL_NAME).source == "shipped"
    assert resolve_weights(DEMO_MODEL_NAME).path.name == "malg_malk_demo.pt"
    own = tmp_path / f"{SEQUENCER_MODEL_NAME}.pt"
    own.write_bytes(b"x")
    monkeypatch.setenv("PROTLM_WEIGHTS_DIR", str(tmp_path))
    assert resolve_weights(SEQUENCER_MODEL_NAME).path == own.resolve()  # step 3 comes before the shipped file
    monkeypatch.setenv("PROTLM_SEQUENCER_WEIGHTS", str(tmp_path / "gone.pt"))
    with pytest.raises(WeightsNotFoundError, match="PROTLM_SEQUENCER_WEIGHTS"):
        resolve_weights(SEQUENCER_MODEL_NAME)  # a variable naming a missing file: never a fallback
