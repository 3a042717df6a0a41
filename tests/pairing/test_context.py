"""Context pairs, known pairs, orthologs first, --max-rows and resumable DiffPALM sub-MSAs (issue 14, items 1, 4, 5)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from protlm.errors import ModelLimitError, PairingInputError
from protlm.io import MSA, ContextPairs, PairedFamilies, read_paired_families
from protlm.pairing.diffpalm import pair_diffpalm
from protlm.pairing.diffpalm_plan import default_max_depth, plan_sub_msas
from protlm.pairing.entropy_bootstrap import pair_entropy_bootstrap
from protlm.pairing.mi_ipa import pair_mi_ipa
from protlm.pairing.random_pairing import pair_random

AA = "ACDEFGHIKLMNPQRSTVWY"


def coupled(sizes, *, length=10, seed=0, prefix="", mutate=0.1):
    """Two families whose left rows are noisy copies of their right rows, species of the given sizes."""
    rng = np.random.default_rng(seed)
    left, right, lid, rid = [], [], [], []
    for s, n in enumerate(sizes):
        for i in range(n):
            r = "".join(rng.choice(list(AA[:6]), length))
            l = "".join(c if rng.random() > mutate else rng.choice(list(AA[:6])) for c in r)
            right.append(r)
            left.append(l)
            rid.append(f"{prefix}R{s}.{i}_sp{prefix}{s}")
            lid.append(f"{prefix}L{s}.{i}_sp{prefix}{s}")
    return MSA.from_sequences(left, ids=lid), MSA.from_sequences(right, ids=rid)


def shuffled_pf(sizes, seed=1):
    """PairedFamilies with right rows shuffled within species; truth = the planted pairing."""
    left, right = coupled(sizes, seed=seed)
    rng = np.random.default_rng(seed)
    order, start = [], 0
    for n in sizes:
        order += (start + rng.permutation(n)).tolist()
        start += n
    right = right[order]
    truth = {order[j]: j for j in range(len(order))}
    return PairedFamilies.from_msas(left, right, species_key="field:_:-1", truth=truth)


@pytest.fixture(scope="module")
def context():
    left, right = coupled([6] * 40, seed=7, prefix="c")
    return ContextPairs.from_msas(left, right)


def test_context_makes_the_first_training_set_and_is_not_in_the_result(context):
    pf = shuffled_pf([5, 6, 4, 6, 5])
    res = pair_mi_ipa(pf, context=context, seed=0)
    assert res.history["training_size"][0] == context.n_pairs  # no random start
    assert res.info["routes"] == {"orthologs": 0, "known_pairs": 0, "optimised": 26, "context_pairs": 240}
    assert len(res) == 26 and set(res.left_rows) == set(range(26))
    with_ctx = res.precision(pf.truth)
    without = pair_mi_ipa(pf, seed=0).precision(pf.truth)
    assert with_ctx >= without and with_ctx > 0.8


def test_entropy_bootstrap_takes_context_as_fixed_statistics(context):
    pf = shuffled_pf([5, 6, 4, 6, 5])
    res = pair_entropy_bootstrap(pf, context=context, seed=0, n_iterations=20)
    assert len(res) == 26 and res.info["routes"]["context_pairs"] == 240
    assert res.precision(pf.truth) >= pair_entropy_bootstrap(pf, seed=0, n_iterations=20).precision(pf.truth)


def test_context_columns_must_match():
    pf = shuffled_pf([3, 3])
    bad = ContextPairs.from_msas(MSA.from_sequences(["ACD"], ids=["a"]), MSA.from_sequences(["ACD"], ids=["x"]))
    with pytest.raises(PairingInputError, match="3 columns but the family"):
        pair_mi_ipa(pf, context=bad)


def test_orthologs_are_paired_directly_and_counted():
    pf = shuffled_pf([1, 4, 1, 5, 1])
    for res in (pair_mi_ipa(pf, seed=0), pair_entropy_bootstrap(pf, seed=0, n_iterations=5), pair_random(pf, seed=0)):
        assert res.info["routes"]["orthologs"] == 3 and res.info["routes"]["optimised"] == 9
        single = [i for i, b in enumerate(pf.blocks) if b.n_left == 1]
        for k in single:
            l = int(pf.blocks[k].left[0])
            row = list(res.left_rows).index(l)
            assert res.right_rows[row] == pf.truth[l] and res.confidence[row] == 1.0
    assert pf.summary()["n_orthologs"] == 3


def test_read_context_known_pairs_and_their_errors(tmp_path):
    left, right = coupled([3, 3])
    (tmp_path / "l.fasta").write_text("".join(f">{i}\n{s}\n" for i, s in zip(left.ids, left.sequences)))
    (tmp_path / "r.fasta").write_text("".join(f">{i}\n{s}\n" for i, s in zip(right.ids, right.sequences)))
    cl, cr = coupled([4], prefix="c", seed=3)
    (tmp_path / "cl.fasta").write_text("".join(f">{i}\n{s}\n" for i, s in zip(cl.ids, cl.sequences)))
    (tmp_path / "cr.fasta").write_text("".join(f">{i}\n{s}\n" for i, s in zip(cr.ids, cr.sequences[::-1])))
    (tmp_path / "ctx.tsv").write_text("left_id\tright_id\n" + "".join(f"{a}\t{b}\n" for a, b in zip(cl.ids, cr.ids)))
    (tmp_path / "known.tsv").write_text(f"{left.ids[0]}\t{right.ids[0]}\n")
    pf = read_paired_families(tmp_path / "l.fasta", tmp_path / "r.fasta", species_key="field:_:-1",
                              context=(tmp_path / "cl.fasta", tmp_path / "cr.fasta"), context_pairs=tmp_path / "ctx.tsv",
                              known_pairs=tmp_path / "known.tsv")
    assert pf.context.pairs == ((0, 0), (1, 1), (2, 2), (3, 3)) and pf.known_pairs == {0: 0}
    assert pf.summary()["context"]["n_pairs"] == 4 and pf.summary()["n_known_pairs"] == 1
    res = pair_mi_ipa(pf, context=pf.context, known_pairs=pf.known_pairs, seed=0)
    assert res.mapping()[0] == 0 and res.info["routes"]["known_pairs"] == 1
    (tmp_path / "cross.tsv").write_text(f"{left.ids[0]}\t{right.ids[4]}\n")
    with pytest.raises(PairingInputError, match=r"cross.tsv: line 1: known pair .* not inside one species"):
        read_paired_families(tmp_path / "l.fasta", tmp_path / "r.fasta", species_key="field:_:-1",
                             known_pairs=tmp_path / "cross.tsv")
    (tmp_path / "ctx_bad.tsv").write_text(f"{cl.ids[0]}\tnope\n")
    with pytest.raises(PairingInputError, match=r"ctx_bad.tsv: line 1: id 'nope' is not in the context right MSA"):
        read_paired_families(tmp_path / "l.fasta", tmp_path / "r.fasta", species_key="field:_:-1",
                             context=(tmp_path / "cl.fasta", tmp_path / "cr.fasta"), context_pairs=tmp_path / "ctx_bad.tsv")
    with pytest.raises(PairingInputError, match="--context-pairs"):
        read_paired_families(tmp_path / "l.fasta", tmp_path / "r.fasta", species_key="field:_:-1",
                             context_pairs=tmp_path / "ctx.tsv")


def test_cap_rows_keeps_the_species_closest_to_the_query():
    left = MSA.from_sequences(["ACDEFG", "ACDEFG", "ACDEFH", "KLMNPQ", "KLMNPR", "ACDEKL"],
                              ids=["q", "a_1", "b_1", "c_2", "d_2", "e_3"])
    right = MSA.from_sequences(["GHIK", "GHIK", "GHIR", "MNPQ", "MNPR", "GHIK"], ids=["q", "x_1", "y_1", "z_2", "w_2", "v_3"])
    pf = PairedFamilies.from_msas(left, right, species_key="field:_:-1")
    capped = pf.cap_rows(3)
    assert [b.species for b in capped.blocks] == ["1", "3"] and capped.n_capped_rows == 2
    assert capped.summary()["n_capped_species"] == 1
    assert [b.species for b in pf.cap_rows(3).blocks] == [b.species for b in capped.blocks]  # deterministic
    with pytest.raises(PairingInputError, match="no species fits"):
        replace(pf, blocks=pf.blocks[:2]).cap_rows(1)  # both species need 2 rows


# -- DiffPALM: context rows, orthologs, deterministic plan, resume


@pytest.fixture(scope="module")
def tiny():
    from protlm.models.esm_msa import build_msa_transformer, freeze

    model, alphabet, _ = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64, seed=0)
    return freeze(model), alphabet


def test_diffpalm_context_rows_and_orthologs(tiny, context):
    model, alphabet = tiny
    torch.set_num_threads(1)
    pf = shuffled_pf([1, 4, 1, 3])
    res = pair_diffpalm(pf, model=model, alphabet=alphabet, steps=2, device="cpu", context=context, max_depth=250)
    assert res.info["n_context_rows"] == 240 and res.info["routes"]["orthologs"] == 2
    assert res.info["routes"]["optimised"] == 7 and res.n_pairs == 9
    assert sum(len(sub) for sub in plan_sub_msas(pf, max_depth=250, n_context=240)) == 2  # orthologs in no sub-MSA
    # 240 context rows leave 2 beside them, the 4-row species do not fit: the context is cut to half of 242
    cut = pair_diffpalm(pf, model=model, alphabet=alphabet, steps=1, device="cpu", context=context, max_depth=242)
    assert cut.info["n_context_rows"] == 121 and cut.info["context_pairs_given"] == 240
    with pytest.raises(ModelLimitError, match="240 context rows"):  # what it would be without the cut
        plan_sub_msas(pf, max_depth=242, n_context=240)


def test_default_depth_does_not_follow_free_memory(tiny, monkeypatch):
    import os

    model, _ = tiny
    first = default_max_depth(model, 177, torch.device("cpu"))
    real = os.sysconf

    def fake(name):
        if name == "SC_AVPHYS_PAGES":
            return 1
        return real(name)

    monkeypatch.setattr(os, "sysconf", fake)
    assert default_max_depth(model, 177, torch.device("cpu")) == first


def test_killed_run_resumes_from_finished_sub_msas(tiny, tmp_path):
    model, alphabet = tiny
    torch.set_num_threads(1)
    pf = shuffled_pf([4, 3, 4, 3, 4], seed=5)
    kw = dict(model=model, alphabet=alphabet, steps=3, runs=1, seed=0, device="cpu", max_depth=8, max_batch=1)
    reference = pair_diffpalm(pf, **kw)
    assert reference.info["n_sub_msas"] == 3

    class Killed(Exception):
        pass

    seen = []

    def kill_after_first(done, total, *, sub_msa, **_):
        seen.append(sub_msa)
        if sub_msa.startswith("2/"):
            raise Killed

    with pytest.raises(Killed):
        pair_diffpalm(pf, **kw, checkpoint_dir=tmp_path / ".partial", callback=kill_after_first)
    assert len(list((tmp_path / ".partial").rglob("*.npz"))) == 1 and seen[0] == "1/3"
    resumed = pair_diffpalm(pf, **kw, checkpoint_dir=tmp_path / ".partial")
    assert resumed.info["resumed_sub_msas"] == 1
    assert not (tmp_path / ".partial").exists()  # removed once complete
    assert np.array_equal(resumed.left_rows, reference.left_rows)
    assert np.array_equal(resumed.right_rows, reference.right_rows)
    assert np.array_equal(resumed.confidence, reference.confidence)
    assert resumed.history["loss"] == reference.history["loss"]
    # a different option is a different key: nothing is reused
    other = pair_diffpalm(pf, **{**kw, "seed": 1}, checkpoint_dir=tmp_path / ".partial")
    assert other.info["resumed_sub_msas"] == 0
