"""A rerun of `protlm sequence --overwrite` leaves only its own outputs (issue 16)."""

from __future__ import annotations

import os
import time

from click.testing import CliRunner

from protlm.cli import main


def test_overwrite_without_truth_removes_the_earlier_plots(tiny_model_path, tmp_path):
    reads, truth = tmp_path / "r.fasta", tmp_path / "t.fasta"
    reads.write_text(">a\nXKXXCXXYXXM\n>b\nKXXCXX\n")
    truth.write_text(">a\nAKLLCAAYLLM\n>b\nKLLCAA\n")
    out = tmp_path / "out"
    common = ["sequence", str(reads), "-o", str(out), "--known", "KCYM", "--model", str(tiny_model_path)]
    res = CliRunner().invoke(main, common + ["--truth", str(truth)])
    assert res.exit_code == 0, res.output
    assert (out / "confusion.png").exists() and (out / "calibration.png").exists()
    past = time.time() - 10  # the first run's files are older than the second run's start
    for p in out.iterdir():
        os.utime(p, (past, past))
    res = CliRunner().invoke(main, common + ["--overwrite"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["positions.tsv", "predictions.fasta", "report.json"]
