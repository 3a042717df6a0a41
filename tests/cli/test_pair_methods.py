"""`protlm pair --method entropy-bootstrap|diffpass` through the CLI."""

from __future__ import annotations

import builtins
import json

from click.testing import CliRunner

from protlm.cli import main

ARGS = ["data/malg_example.fasta", "data/malk_example.fasta", "--species-key", "field:_:-1", "--truth", "same-order"]


def test_entropy_bootstrap_beats_random_on_bundled_example(repo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(repo_root)
    res = CliRunner().invoke(main, ["pair", *ARGS, "-o", str(tmp_path / "o"), "--method", "entropy-bootstrap"])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["method"] == "entropy-bootstrap"
    assert report["precision"] > report["random_precision"] + 0.2


def test_diffpass_missing_names_the_extra(repo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(repo_root)
    real_import = builtins.__import__

    def no_diffpass(name, *args, **kwargs):
        if name == "diffpass" or name.startswith("diffpass."):
            raise ImportError("No module named 'diffpass'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_diffpass)
    res = CliRunner().invoke(main, ["pair", *ARGS, "-o", str(tmp_path / "o"), "--method", "diffpass"])
    assert res.exit_code == 2
    assert "protlm[diffpass]" in res.output
    assert not (tmp_path / "o").exists()  # failed before touching the output folder
