"""The model arithmetic option: auto picks bf16 only where the hardware multiplies it natively."""

import numpy as np
import pytest
import torch

from protlm.models import device as devmod
from protlm.models.device import DeviceError, resolve_precision
from protlm.models.esm_msa import build_msa_transformer, freeze, onehot_logits


@pytest.mark.parametrize("flags, expected", [({"avx2", "amx_bf16", "amx_tile"}, "bf16"), ({"avx2", "avx512f"}, "fp32")])
def test_auto_follows_the_cpu_flags(monkeypatch, flags, expected):
    monkeypatch.setattr(devmod, "_cpu_flags", lambda: flags)
    assert resolve_precision("auto", torch.device("cpu")) == expected
    assert resolve_precision("fp32", torch.device("cpu")) == "fp32"


def test_unknown_precision_lists_choices():
    with pytest.raises(DeviceError, match="auto, fp32, bf16"):
        resolve_precision("half", torch.device("cpu"))


def test_bf16_logits_are_float32_and_close():
    model, alphabet, _ = build_msa_transformer(layers=2, embed_dim=64, heads=4, ffn_dim=128, seed=0)
    freeze(model)
    tokens = torch.randint(4, 24, (1, 6, 20))
    onehot = torch.nn.functional.one_hot(tokens, len(alphabet)).float()
    a = onehot_logits(model, onehot)
    b = onehot_logits(model, onehot, precision="bf16")
    assert a.dtype == b.dtype == torch.float32
    assert not torch.equal(a, b) and np.allclose(a.numpy(), b.numpy(), atol=0.15 * a.abs().max().item())


def test_pair_diffpalm_records_precision_and_authors_preset_stays_fp32(monkeypatch):
    from protlm.io import MSA, PairedFamilies
    from protlm.pairing.diffpalm import pair_diffpalm

    monkeypatch.setattr(devmod, "_cpu_flags", lambda: {"amx_bf16"})
    model, alphabet, _ = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64)
    left = MSA.from_sequences(["ACDE", "ACDF", "GHIK"], ids=["a_1", "b_1", "c_2"])
    right = MSA.from_sequences(["LMNP", "LMNQ", "RSTV"], ids=["x_1", "y_1", "z_2"])
    paired = PairedFamilies.from_msas(left, right, species_key="field:_:-1")
    kw = dict(model=freeze(model), alphabet=alphabet, steps=1, device="cpu")
    assert pair_diffpalm(paired, **kw).info["precision"] == "bf16"
    assert pair_diffpalm(paired, preset="authors", **kw).info["precision"] == "fp32"
    assert pair_diffpalm(paired, precision="fp32", **kw).info["precision"] == "fp32"
