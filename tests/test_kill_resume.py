"""Kills lose nothing (issue 16, item 2): SIGKILL a training command midway, rerun the same command, and the
result equals an uninterrupted run's, bit for bit (both trainings are seeded and checkpoint their random states).
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

PROTLM = str(Path(sys.executable).parent / "protlm")


def _kill_when(cmd, ready, timeout: float = 300) -> bool:
    """Run ``cmd``; SIGKILL it as soon as ``ready`` (a path that appears, or a predicate) holds.

    False if the command ended (or timed out) first.  Its output goes nowhere: an unread pipe could fill and
    stall the child before it gets to the point the test waits for.
    """
    check = ready.exists if isinstance(ready, Path) else ready
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if check():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return False


def _run(cmd):
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]


def _same_tensors(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def malg_small(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("malg")
    for name in ("malg", "malk"):
        records = data(f"pairing/{name}.fasta").read_text().split(">")[1:41]
        (out / f"{name}.fasta").write_text("".join(">" + r for r in records))
    return out / "malg.fasta", out / "malk.fasta"


@pytest.mark.slow
def test_train_pair_model_killed_and_rerun_equals_uninterrupted(malg_small, tmp_path):
    left, right = malg_small

    def cmd(out):
        return [PROTLM, "train-pair-model", str(left), str(right), "-o", str(out), "--species-key", "field:_:-1",
                "--layers", "1", "--embed-dim", "16", "--heads", "2", "--depth", "8", "--steps", "40",
                "--val-every", "10", "--val-fraction", "0.3", "--threads", "1"]

    killed = tmp_path / "killed"
    assert _kill_when(cmd(killed), killed / "state.pt"), "the run ended before its first checkpoint"
    assert not (killed / "report.json").exists()
    _run(cmd(killed))  # the same command resumes
    _run(cmd(tmp_path / "whole"))
    a = torch.load(killed / "state.pt", map_location="cpu", weights_only=False)
    b = torch.load(tmp_path / "whole" / "state.pt", map_location="cpu", weights_only=False)
    assert a["step"] == b["step"] == 40
    assert _same_tensors(a["model"], b["model"])
    assert (killed / "model.pt").read_bytes() == (tmp_path / "whole" / "model.pt").read_bytes()


@pytest.mark.slow
def test_train_sequencer_killed_and_rerun_equals_uninterrupted(data, tmp_path):
    from protlm.io import iter_fasta, write_fasta

    proteins = tmp_path / "proteins.fasta"
    write_fasta(list(itertools.islice(iter_fasta(data("proteomes/ecoli_k12_UP000000625.fasta")), 60)), proteins)

    def cmd(out):
        return [PROTLM, "train-sequencer", str(proteins), "-o", str(out), "--d-model", "16", "--layers", "1",
                "--heads", "2", "--d-ff", "32", "--max-len", "64", "--batch-size", "4", "--max-steps", "60",
                "--eval-every", "10", "--valid-fraction", "0.2", "--test-fraction", "0.1", "--threads", "1"]

    killed = tmp_path / "killed"
    assert _kill_when(cmd(killed), killed / "checkpoint.pt"), "the run ended before its first checkpoint"
    assert not (killed / "report.json").exists()
    _run(cmd(killed))
    _run(cmd(tmp_path / "whole"))
    a = torch.load(killed / "checkpoint.pt", map_location="cpu", weights_only=False)
    b = torch.load(tmp_path / "whole" / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert a["state"]["step"] == b["state"]["step"] == 60
    assert _same_tensors(a["model"], b["model"])


@pytest.mark.slow
def test_sequence_killed_midway_and_rerun_equals_uninterrupted(data, tmp_path):
    """`protlm sequence` writes report.json last; killed after its first output file appeared, the same command
    (no --overwrite) replaces what the killed run left and ends with the uninterrupted run's files."""
    from protlm.io import iter_fasta
    from protlm.sequencing.simulate import simulate_reads

    proteins = [(r.id, r.sequence) for r in itertools.islice(
        iter_fasta(data("proteomes/ecoli_k12_UP000000625.fasta")), 1500)]
    sim = simulate_reads(proteins, known="KCYM", seed=0)
    reads = tmp_path / "reads.fasta"
    sim.write(reads, tmp_path / "truth.fasta")

    def cmd(out):
        return [PROTLM, "sequence", str(reads), "-o", str(out), "--known", "KCYM", "--threads", "1"]

    killed = tmp_path / "killed"
    assert _kill_when(cmd(killed), killed / "predictions.fasta"), "the run ended before writing its first output"
    if (killed / "report.json").exists():
        pytest.skip("the kill came after the run had finished; nothing was interrupted")
    _run(cmd(killed))  # the same command, without --overwrite
    _run(cmd(tmp_path / "whole"))
    for name in ("predictions.fasta", "positions.tsv"):
        assert (killed / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    assert (killed / "report.json").exists()


@pytest.mark.slow
def test_deep_pair_killed_after_a_sub_msa_and_rerun_equals_uninterrupted(data, tmp_path):
    """`protlm pair` (DiffPALM, a tiny model, several sub-MSAs) SIGKILLed once a sub-MSA is checkpointed in
    OUTDIR/.partial, then rerun with the same command, writes the uninterrupted run's pairs."""
    from protlm.models.esm_msa import build_msa_transformer, save_msa_checkpoint

    model, _, args = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64, seed=0)
    weights = tmp_path / "tiny.pt"
    save_msa_checkpoint(model, args, weights)
    files = []
    for name in ("malg", "malk"):
        records = data(f"pairing/{name}.fasta").read_text().split(">")[1:121]
        path = tmp_path / f"{name}.fasta"
        path.write_text("".join(">" + r for r in records))
        files.append(str(path))

    def cmd(out):
        return [PROTLM, "pair", *files, "-o", str(out), "--weights", str(weights), "--species-key", "field:_:-1",
                "--truth", "same-order", "--steps", "15", "--max-depth", "24", "--threads", "1", "--device", "cpu"]

    killed = tmp_path / "killed"
    watch = killed / ".partial"

    def first_checkpoint():
        return watch.exists() and any(watch.rglob("*.npz"))

    assert _kill_when(cmd(killed), first_checkpoint), "the run ended before its first sub-MSA was checkpointed"
    assert not (killed / "report.json").exists()
    _run(cmd(killed))
    _run(cmd(tmp_path / "whole"))
    assert (killed / "pairs.tsv").read_text() == (tmp_path / "whole" / "pairs.tsv").read_text()
    assert not watch.exists()  # the checkpoints are removed once the run completes
    import json

    report = json.loads((killed / "report.json").read_text())
    assert report["method_info"]["resumed_sub_msas"] >= 1, report["method_info"]
