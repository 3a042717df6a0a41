"""The DiffPALM solver on a planted problem, and pair_diffpalm's layout options."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from protlm.errors import ModelLimitError, PairingInputError
from protlm.io import MSA, PairedFamilies
from protlm.pairing.diffpalm import pair_diffpalm
from protlm.pairing.diffpalm_plan import plan_sub_msas
from protlm.pairing.diffpalm_solver import PRESETS
from protlm.pairing.draws import TorchDraws

AA = "ACDEFGHIKLMNPQRSTVWY"


class PlantedPairLM(torch.nn.Module):
    """A hand-built masked LM: the logits of left column j favour the right chain's token at column j.

    So the loss is lowest when each left sequence sits next to the right
    sequence it was copied from: the planted pairing.  It exposes what the
    solver uses of an MSA Transformer (``embed_tokens``, ``args``, ``logits``).
    """

    def __init__(self, alphabet, length, scale=4.0):
        super().__init__()
        n = len(alphabet)
        self.embed_tokens = torch.nn.Embedding(n, n)
        with torch.no_grad():
            self.embed_tokens.weight.copy_(torch.eye(n))
        self.requires_grad_(False)
        self.args = argparse.Namespace(max_positions=1024, embed_positions_msa=True, embed_dim=n, layers=1)
        self.length, self.scale = length, scale

    def forward(self, tokens):
        x = self.embed_tokens(tokens)  # replaced by onehot @ I through protlm's hook
        L = self.length
        right = x[:, :, 1 + L : 1 + 2 * L, :]
        zeros = torch.zeros_like(x[:, :, :1, :])
        logits = torch.cat([zeros, self.scale * right, torch.zeros_like(x[:, :, 1 + L :, :])], dim=2)
        return {"logits": logits}


@pytest.fixture(scope="module")
def alphabet():
    import esm

    return esm.Alphabet.from_architecture("msa_transformer")


def planted_families(sizes, length=24, mutate=0.2, seed=0, right_sizes=None):
    rng = np.random.default_rng(seed)
    left, right, lid, rid = [], [], [], []
    right_sizes = right_sizes or sizes
    for s, (nl, nr) in enumerate(zip(sizes, right_sizes)):
        rights = ["".join(rng.choice(list(AA), length)) for _ in range(max(nl, nr))]
        for i in range(nr):
            right.append(rights[i])
            rid.append(f"R{s}.{i}_sp{s}")
        for i in range(nl):
            seq = [c if rng.random() > mutate else rng.choice(list(AA)) for c in rights[i]]
            left.append("".join(seq))
            lid.append(f"L{s}.{i}_sp{s}")
    lm, rm = MSA.from_sequences(left, ids=lid), MSA.from_sequences(right, ids=rid)
    truth = {i: i for i in range(min(len(left), len(right)))} if right_sizes == sizes else None
    return PairedFamilies.from_msas(lm, rm, species_key="field:_:-1", truth=truth)


def test_oracle_recovers_planted_pairing(alphabet):
    torch.set_num_threads(1)
    paired = planted_families([6, 7, 5, 8, 4], seed=1)
    model = PlantedPairLM(alphabet, length=24)
    res = pair_diffpalm(paired, model=model, alphabet=alphabet, steps=40, seed=0, device="cpu")
    assert res.precision(paired.truth) >= 0.95
    # it started from a shuffled arrangement, far from the answer
    assert res.history["precision"][0] < 0.6
    assert res.history["loss"][-1] < res.history["loss"][0]
    assert len(res.history["loss"]) == 41


def test_single_run_confidence_separates_right_from_wrong_pairs(alphabet):
    # a hard planted problem (85 % of each left copy mutated): some pairs come out wrong
    paired = planted_families([6, 7, 5, 8, 4, 6, 7, 9, 5], seed=2, mutate=0.85)
    model = PlantedPairLM(alphabet, length=24)
    res = pair_diffpalm(paired, model=model, alphabet=alphabet, steps=30, seed=0, device="cpu")
    assert res.device == "cpu" and np.isnan(res.agreement).all()  # one run: no agreement to report
    conf = res.confidence
    assert np.all((conf >= 0) & (conf <= 1)) and not np.all(conf == 1.0)
    mapping = res.mapping()
    correct = np.array([paired.truth[int(l)] == mapping[int(l)] for l in res.left_rows])
    assert 0.6 < correct.mean() < 0.95
    # AUC: chance that a right pair scores above a wrong one (measured 0.997)
    auc = np.mean([a > b for a in conf[correct] for b in conf[~correct]])
    assert auc > 0.85


def test_agreement_counts_runs(alphabet):
    paired = planted_families([5, 4], seed=2, mutate=0.5)
    model = PlantedPairLM(alphabet, length=24, scale=1.0)
    res = pair_diffpalm(paired, model=model, alphabet=alphabet, steps=4, runs=2, seed=0, device="cpu")
    assert set(res.agreement.tolist()) <= {0.0, 0.5, 1.0} and np.all((res.confidence >= 0) & (res.confidence <= 1))


def test_seed_determinism(alphabet):
    paired = planted_families([5, 4], seed=2, mutate=0.5)
    model = PlantedPairLM(alphabet, length=24, scale=1.0)
    kw = dict(model=model, alphabet=alphabet, steps=6, device="cpu", runs=2)
    a = pair_diffpalm(paired, seed=3, **kw)
    b = pair_diffpalm(paired, seed=3, **kw)
    c = pair_diffpalm(paired, seed=4, **kw)
    assert a.history == b.history
    assert a.to_dataframe().equals(b.to_dataframe())
    assert a.history["loss"] != c.history["loss"]


def test_unequal_blocks_are_padded_and_reported_unpaired(alphabet):
    paired = planted_families([3, 2], right_sizes=[2, 4], seed=3, mutate=0.0)
    model = PlantedPairLM(alphabet, length=24)
    res = pair_diffpalm(paired, model=model, alphabet=alphabet, steps=30, seed=0, device="cpu")
    df = res.to_dataframe()
    sp0, sp1 = df[df.species == "sp0"], df[df.species == "sp1"]
    assert len(sp0) == 3 and (sp0.right_row == -1).sum() == 1  # 3 left, 2 right: one left unpaired
    assert len(sp1) == 4 and (sp1.left_row == -1).sum() == 2  # 2 left, 4 right: two rights unpaired
    unpaired = (df.left_row < 0) | (df.right_row < 0)
    assert df.confidence[unpaired].isna().all() and df.confidence[~unpaired].between(0, 1).all()
    # identical copies: the real pairs are the planted ones (left i of a species copies right i)
    for _, row in df[(df.left_row >= 0) & (df.right_row >= 0)].iterrows():
        assert row.left_id.split("_")[0][1:] == row.right_id.split("_")[0][1:]


def test_known_pairs_stay_fixed_and_context_rows(alphabet):
    paired = planted_families([4, 3, 2], seed=4, mutate=0.3)
    model = PlantedPairLM(alphabet, length=24)
    known = {0: 1}  # deliberately wrong pair: it must be kept, not optimised away
    res = pair_diffpalm(
        paired, model=model, alphabet=alphabet, steps=5, device="cpu", known_pairs=known,
        context_pairs=None,
    )
    assert res.mapping()[0] == 1
    assert res.info["n_known_pairs"] == 1
    with pytest.raises(PairingInputError, match="known_pairs instead"):
        pair_diffpalm(paired, model=model, alphabet=alphabet, steps=1, device="cpu", context_pairs={7: 7})
    # context from outside the blocks: a family whose last species only has known pairs
    extra = planted_families([4, 3], seed=5)
    left = MSA.from_sequences(extra.left.sequences + ["A" * 24], ids=list(extra.left.ids) + ["ctx_other"])
    right = MSA.from_sequences(extra.right.sequences + ["C" * 24], ids=list(extra.right.ids) + ["ctxr_another"])
    pf = PairedFamilies.from_msas(left, right, species_key="field:_:-1")
    res = pair_diffpalm(pf, model=model, alphabet=alphabet, steps=2, device="cpu", context_pairs={7: 7})
    assert res.info["n_context_rows"] == 1 and res.n_pairs == 7


def test_max_depth_splits_species_and_never_truncates(alphabet):
    paired = planted_families([4, 3, 5, 2], seed=6)
    subs = plan_sub_msas(paired, max_depth=7)
    assert [[b.species for b in s] for s in subs] == [["sp0", "sp1"], ["sp2", "sp3"]]
    with pytest.raises(ModelLimitError, match="'sp2' needs 5 rows"):
        plan_sub_msas(paired, max_depth=4)
    model = PlantedPairLM(alphabet, length=24)
    res = pair_diffpalm(paired, model=model, alphabet=alphabet, steps=25, device="cpu", max_depth=7)
    assert res.info["n_sub_msas"] == 2 and res.n_pairs == 14
    assert res.precision(paired.truth) >= 0.9
    with pytest.raises(ModelLimitError, match="at most 1024"):
        pair_diffpalm(paired, model=model, alphabet=alphabet, steps=1, device="cpu", max_depth=2000)


def test_explicit_draws_and_presets(alphabet):
    paired = planted_families([4, 4], seed=7)
    model = PlantedPairLM(alphabet, length=24)
    a = pair_diffpalm(paired, model=model, alphabet=alphabet, steps=3, preset="authors", draws=TorchDraws(11), device="cpu")
    b = pair_diffpalm(paired, model=model, alphabet=alphabet, steps=3, preset="authors", seed=11, device="cpu")
    assert a.history == b.history  # seed s means TorchDraws(s) for run 0
    assert PRESETS["authors"].scheduler_kwargs() == {"mode": "min"}
    assert PRESETS["protlm"].scheduler_kwargs() == {"mode": "min", "factor": 0.8, "patience": 20}
    with pytest.raises(Exception, match="choose one of"):
        pair_diffpalm(paired, model=model, alphabet=alphabet, preset="paper")
