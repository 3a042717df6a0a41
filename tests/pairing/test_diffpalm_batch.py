"""DiffPALM's batched sub-MSAs (issue 20, item 4): several same-shape problems in one forward pass per iteration
give what one at a time gives, and the batches are planned the same way on every call.

Tolerance (fp32): the same hard assignment at every iteration, the same learning rates, and losses within
1e-5 relative (batched matrix products may round differently; on the CPU these tests were written on they
agreed bit for bit).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from protlm.errors import ProtlmError
from protlm.io import MSA, PairedFamilies
from protlm.pairing.diffpalm import pair_diffpalm
from protlm.pairing.diffpalm_plan import default_max_batch, plan_batches
from protlm.pairing.diffpalm_solver import (
    PermutationProblem,
    optimize_permutations,
    optimize_permutations_batch,
)
from protlm.pairing.draws import TorchDraws

AA = "ACDEFGHIKLMNPQRSTVWY"
RTOL = 1e-5


@pytest.fixture(scope="module")
def tiny():
    from protlm.models.esm_msa import build_msa_transformer, freeze

    model, alphabet, _ = build_msa_transformer(layers=2, embed_dim=32, heads=4, ffn_dim=64, seed=0)
    return freeze(model), alphabet


def families(sizes, *, length=12, seed=0):
    """Species ``sp{s}`` with ``sizes[s]`` sequences on each side; right copies of the left with 30 % mutated."""
    rng = np.random.default_rng(seed)
    left, right, lid, rid = [], [], [], []
    for s, n in enumerate(sizes):
        for i in range(n):
            seq = "".join(rng.choice(list(AA), length))
            left.append(seq)
            right.append("".join(c if rng.random() > 0.3 else rng.choice(list(AA)) for c in seq))
            lid.append(f"L{s}.{i}_sp{s}")
            rid.append(f"R{s}.{i}_sp{s}")
    return PairedFamilies.from_msas(MSA.from_sequences(left, ids=lid), MSA.from_sequences(right, ids=rid),
                                    species_key="field:_:-1", truth="same-order")


# four sub-MSAs at max_depth 8: three of 8 rows (4 + 4), one of 5 (3 + 2)
DEEP = [4, 4, 4, 4, 4, 4, 3, 2]


def test_batched_sub_msas_equal_one_at_a_time(tiny):
    model, alphabet = tiny
    torch.set_num_threads(1)
    paired = families(DEEP, seed=1)
    kw = dict(model=model, alphabet=alphabet, steps=6, runs=2, seed=0, device="cpu", max_depth=8, precision="fp32")
    alone = pair_diffpalm(paired, max_batch=1, **kw)
    batched = pair_diffpalm(paired, max_batch=64, **kw)  # as many as fit the cap (the CPU default is 1)
    assert alone.info["n_sub_msas"] == 4
    assert [len(b) for b in alone.info["batches"]] == [1] * 8
    # the three 8-row sub-MSAs of both runs share one pass; the 5-row one's two runs another
    assert [len(b) for b in batched.info["batches"]] == [6, 2]
    assert {d["batch_size"] for d in batched.info["run_details"]} == {6, 2}
    for name in ("species", "left_ids", "right_ids"):
        assert getattr(batched, name) == getattr(alone, name)
    for name in ("left_rows", "right_rows", "confidence", "agreement"):
        np.testing.assert_array_equal(getattr(batched, name), getattr(alone, name))
    np.testing.assert_allclose(batched.history["loss"], alone.history["loss"], rtol=RTOL)
    assert batched.history["precision"] == alone.history["precision"]
    for a, b in zip(alone.info["run_details"], batched.info["run_details"]):
        assert (a["run"], a["sub_msa"], a["depth"], a["draws"], a["lrs_last"]) == \
               (b["run"], b["sub_msa"], b["depth"], b["draws"], b["lrs_last"])
        assert b["final_loss"] == pytest.approx(a["final_loss"], rel=RTOL)


def _problems(alphabet, n, *, depth=6, context=True, seed=0):
    rng = np.random.default_rng(seed)
    aa = [alphabet.get_idx(c) for c in AA]
    ctx = rng.choice(aa, size=(2, 1 + 7 + 5)) if context else None
    out = []
    for _ in range(n):
        left, right = rng.choice(aa, size=(depth, 1 + 7)), rng.choice(aa, size=(depth, 1 + 5))
        left[:, 0] = right[:, 0] = alphabet.cls_idx
        maskable = np.ones(depth, dtype=bool)
        maskable[-1] = False  # a padding row: never masked
        out.append(PermutationProblem.from_tokens(
            left, right, [np.arange(0, 3), np.arange(3, depth)], n_tokens=len(alphabet), maskable=maskable,
            context=ctx, mask_idx=alphabet.mask_idx))
    return out


def test_lockstep_traces_are_each_problems_own(tiny):
    model, alphabet = tiny
    problems = _problems(alphabet, 3)
    traces = optimize_permutations_batch(model, problems, steps=8, draws=[TorchDraws(10 + b) for b in range(3)])
    for b, problem in enumerate(problems):
        alone = optimize_permutations(model, problem, steps=8, draws=TorchDraws(10 + b))
        np.testing.assert_array_equal(traces[b].perms, alone.perms)  # every iteration's hard assignment
        np.testing.assert_allclose(traces[b].losses, alone.losses, rtol=RTOL)
        assert traces[b].lrs == alone.lrs
        for s_batch, s_alone in zip(traces[b].scores, alone.scores):
            np.testing.assert_allclose(s_batch, s_alone, rtol=1e-4, atol=1e-5)
    # the problems really differ: a batch does not copy one trajectory into the others
    assert not np.allclose(traces[0].losses, traces[1].losses)


def test_batch_of_unequal_shapes_is_refused(tiny):
    model, alphabet = tiny
    with pytest.raises(ProtlmError, match="same shape"):
        optimize_permutations_batch(model, _problems(alphabet, 1, depth=6) + _problems(alphabet, 1, depth=5),
                                    steps=1)
    with pytest.raises(ProtlmError, match="as many draws"):
        optimize_permutations_batch(model, _problems(alphabet, 2), steps=1, draws=[TorchDraws(0)])


def test_batch_plan_is_deterministic(tiny, monkeypatch):
    import os

    model, alphabet = tiny
    paired = families(DEEP, seed=1)
    kw = dict(model=model, alphabet=alphabet, steps=1, runs=2, device="cpu", max_depth=8, precision="fp32")
    first = pair_diffpalm(paired, **kw).info["batches"]
    assert pair_diffpalm(paired, **kw).info["batches"] == first
    assert [len(b) for b in first] == [1] * 8  # on the CPU the default is one at a time
    capped = pair_diffpalm(paired, max_batch=4, **kw).info["batches"]
    assert capped == [[[0, 0], [0, 1], [0, 2], [1, 0]], [[0, 3], [1, 3]], [[1, 1], [1, 2]]]
    # the batch size comes from the device's total memory, never from the memory free at the moment
    n = default_max_batch(model, 25, torch.device("cpu"), rows=8)
    real = os.sysconf
    monkeypatch.setattr(os, "sysconf", lambda name: 1 if name == "SC_AVPHYS_PAGES" else real(name))
    assert default_max_batch(model, 25, torch.device("cpu"), rows=8) == n
    assert pair_diffpalm(paired, **kw).info["batches"] == first
    # a 100M-parameter model on this machine's memory plan fits fewer 50-row MSAs in one pass than a tiny one
    from types import SimpleNamespace as NS

    full = NS(args=NS(layers=12, embed_dim=768))
    assert 1 <= default_max_batch(full, 177, "cpu", rows=50) < n
    assert plan_batches([8, 8, 5], runs=1, max_batch=lambda depth: 1 if depth == 5 else 2) == [[(0, 0), (0, 1)], [(0, 2)]]
    with pytest.raises(ProtlmError, match="positive integer"):
        pair_diffpalm(paired, max_batch=0, **kw)
    with pytest.raises(ProtlmError, match="positive integer"):
        plan_batches([8], max_batch=0)


def test_killed_batched_run_resumes_whole_batches(tiny, tmp_path):
    model, alphabet = tiny
    torch.set_num_threads(1)
    paired = families(DEEP, seed=2)
    kw = dict(model=model, alphabet=alphabet, steps=3, runs=1, seed=0, device="cpu", max_depth=8,
              precision="fp32", max_batch=2)
    reference = pair_diffpalm(paired, **kw)
    assert [len(b) for b in reference.info["batches"]] == [2, 1, 1]  # (0, 1) together, then 2, then 3

    class Killed(Exception):
        pass

    seen = []

    def kill_in_second_batch(done, total, *, sub_msa, **_):
        seen.append((done, sub_msa))
        if sub_msa.startswith("3/"):
            raise Killed

    with pytest.raises(Killed):
        pair_diffpalm(paired, **kw, checkpoint_dir=tmp_path / ".partial", callback=kill_in_second_batch)
    # lockstep: the two problems of the first batch report in turn, and the count never goes back
    assert [w for _, w in seen[:4]] == ["1/4", "2/4", "1/4", "2/4"]
    assert [d for d, _ in seen] == list(range(1, len(seen) + 1))
    assert len(list((tmp_path / ".partial").rglob("*.npz"))) == 1  # the first batch, both problems in one file
    resumed = pair_diffpalm(paired, **kw, checkpoint_dir=tmp_path / ".partial")
    assert resumed.info["resumed_sub_msas"] == 2
    assert not (tmp_path / ".partial").exists()
    np.testing.assert_array_equal(resumed.left_rows, reference.left_rows)
    np.testing.assert_array_equal(resumed.right_rows, reference.right_rows)
    assert resumed.history == reference.history


def test_pair_cli_max_batch(tmp_path, monkeypatch):
    """`protlm pair --max-batch 8` (batched) writes the pairs the default run (one at a time on a CPU) writes."""
    import json

    from click.testing import CliRunner

    from protlm.cli import main
    from protlm.models.esm_msa import build_msa_transformer, save_msa_checkpoint

    monkeypatch.setenv("PROTLM_OFFLINE", "1")
    model, _, args = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64, seed=0)
    weights = save_msa_checkpoint(model, args, tmp_path / "tiny.pt")
    paired = families(DEEP, seed=3)
    files = []
    for side, msa in (("left", paired.left), ("right", paired.right)):
        files.append(tmp_path / f"{side}.fasta")
        files[-1].write_text("".join(f">{i}\n{s}\n" for i, s in zip(msa.ids, msa.sequences)))

    def run(out, *extra):
        res = CliRunner().invoke(main, ["--log-level", "warning", "pair", *map(str, files), "-o", str(out),
                                        "--weights", str(weights), "--species-key", "field:_:-1", "--steps", "4",
                                        "--max-depth", "8", "--precision", "fp32", "--device", "cpu", *extra],
                                 catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return (out / "pairs.tsv").read_text(), json.loads((out / "report.json").read_text())

    alone, report_alone = run(tmp_path / "alone")
    batched, report = run(tmp_path / "batched", "--max-batch", "8")
    assert alone == batched
    assert report_alone["options"]["max_batch"] is None and report["options"]["max_batch"] == 8
    assert [len(b) for b in report["method_info"]["batches"]] == [3, 1]
    assert [len(b) for b in report_alone["method_info"]["batches"]] == [1, 1, 1, 1]
    bad = CliRunner().invoke(main, ["pair", *map(str, files), "-o", str(tmp_path / "bad"), "--max-batch", "0"])
    assert bad.exit_code == 2 and "--max-batch" in bad.output
