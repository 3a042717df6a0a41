"""benchmarks/hkrr_575.py's bookkeeping: decile bins, the code digest and the refusal to write from changed code."""

from __future__ import annotations

import doctest
import importlib.util
import json

import numpy as np
import pytest


@pytest.fixture(scope="module")
def bench(repo_root):
    spec = importlib.util.spec_from_file_location("hkrr_575_benchmark", repo_root / "benchmarks" / "hkrr_575.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docstring_examples(bench):
    assert doctest.testmod(bench).failed == 0


def test_bins_are_equal_sized_and_ordered(bench):
    rng = np.random.default_rng(0)
    values = rng.random(573)
    correct = rng.random(573) < values  # higher value, more often right
    bins = bench.precision_by_bins(values, correct, seed=0)
    assert [b["n"] for b in bins] == [58, 58, 58] + [57] * 7
    assert all(a["confidence_max"] <= b["confidence_min"] for a, b in zip(bins, bins[1:]))
    assert bins[-1]["precision"] > bins[0]["precision"] + 0.5
    ties = bench.precision_by_bins(np.zeros(20), np.arange(20) < 10, seed=1, n_bins=2)
    assert [b["n"] for b in ties] == [10, 10]  # ties split, in a seeded order
    assert ties == bench.precision_by_bins(np.zeros(20), np.arange(20) < 10, seed=1, n_bins=2)


def test_code_digest_follows_the_code(bench, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    (tmp_path / "a.py").write_text("x = 1\n")
    before = bench.code_digest(["a.py"])
    (tmp_path / "a.py").write_text("x = 2\n")
    assert bench.code_digest(["a.py"]) != before


def test_refuses_to_write_from_uncommitted_code(bench, tmp_path, monkeypatch, shared_data):
    monkeypatch.setattr(bench, "git_state", lambda files: ("0" * 40, ["protlm/pairing/mi_ipa.py"]))
    monkeypatch.setattr(bench, "CACHE", tmp_path / "cache")
    out = tmp_path / "r.json"
    with pytest.raises(SystemExit, match="differs from commit 000000000000 in protlm/pairing/mi_ipa.py"):
        bench.main(["--methods", "random", "--out", str(out), "--data", str(shared_data / "pairing")])
    assert not out.exists()
    assert bench.main(["--methods", "random", "--out", str(out), "--data", str(shared_data / "pairing"), "--allow-dirty"]) == 0
    report = json.loads(out.read_text())
    assert report["dirty_files"] == ["protlm/pairing/mi_ipa.py"] and report["all_computed_in_this_invocation"]
    assert report["methods"]["random"]["device"] == "cpu" and len(report["methods"]["random"]["confidence_deciles"]) == 10
    assert "/" not in report["data"][:1] and "benchmarks/hkrr_575.py" in report["code_files"]


def test_cache_is_reused_only_by_the_same_code_and_commit(bench, tmp_path, monkeypatch, shared_data):
    monkeypatch.setattr(bench, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(bench, "git_state", lambda files: ("a" * 40, []))
    out = tmp_path / "r.json"
    bench.main(["--methods", "random", "--out", str(out), "--data", str(shared_data / "pairing")])
    bench.main(["--methods", "random", "--out", str(out), "--data", str(shared_data / "pairing")])
    assert json.loads(out.read_text())["methods"]["random"]["computed"].startswith("resumed from this code's cache")
    monkeypatch.setattr(bench, "git_state", lambda files: ("b" * 40, []))  # same code, another commit: recomputed
    bench.main(["--methods", "random", "--out", str(out), "--data", str(shared_data / "pairing")])
    assert json.loads(out.read_text())["methods"]["random"]["computed"] == "in this invocation"
    monkeypatch.setattr(bench, "code_digest", lambda files: "f" * 64)  # changed code: another cache key
    bench.main(["--methods", "random", "--out", str(out), "--data", str(shared_data / "pairing")])
    report = json.loads(out.read_text())
    assert report["methods"]["random"]["computed"] == "in this invocation" and report["all_computed_in_this_invocation"]
