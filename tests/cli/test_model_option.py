"""One way to name a model (issue 15): ``--model NAME|PATH`` / ``--init NAME|PATH`` in every command that loads one.

The value grammar is protlm.models.weights.resolve_model's; the options come from cli/_options.py, show the
library's default, and the former spellings (``pair --weights``) still work as hidden aliases that log a
deprecation warning.
"""

from __future__ import annotations

import logging
import re
import zipfile

import pytest
from click.testing import CliRunner

from protlm.cli import main
from protlm.errors import WeightsNotFoundError
from protlm.models.weights import DEFAULT_MODELS, DEMO_MODEL_NAME, MSA_MODEL_NAME, SEQUENCER_MODEL_NAME, resolve_model

LOADING = {"pair": "--model", "sequence": "--model", "train-pair-model": "--init", "train-sequencer": "--init"}


@pytest.fixture()
def no_env(monkeypatch, tmp_path):
    for var in ("PROTLM_MSA_WEIGHTS", "PROTLM_SEQUENCER_WEIGHTS", "PROTLM_ESM2_WEIGHTS", "PROTLM_DEMO_WEIGHTS",
                "PROTLM_WEIGHTS_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PROTLM_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))


def _help(command):
    res = CliRunner().invoke(main, [command, "--help"], terminal_width=400)
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split())


@pytest.mark.parametrize("command, option", sorted(LOADING.items()))
def test_every_loading_command_takes_the_same_grammar(command, option):
    text = _help(command)
    assert f"{option} NAME|PATH" in text
    assert "NAME|PATH: a weights file, or a model name found in the weights search order" in text
    task = "pair" if command in ("pair", "train-pair-model") else "sequence"
    names = {"pair": f"{MSA_MODEL_NAME}, {DEMO_MODEL_NAME}, demo", "sequence": f"{SEQUENCER_MODEL_NAME}, esm2_*"}[task]
    assert f"Names: {names}" in text
    if option == "--model":  # the default shown is the library's
        assert f"[default: ({DEFAULT_MODELS[task]})]" in text
    assert "--weights" not in text  # old spellings are hidden


def test_names_paths_and_defaults(no_env, tmp_path, monkeypatch):
    demo = resolve_model("demo", task="pair")
    assert demo.model_name == DEMO_MODEL_NAME and demo.source == "shipped" and demo.format == "msa-transformer"
    assert resolve_model("MalG-MalK-demo", task="pair").path == demo.path
    assert resolve_model(DEMO_MODEL_NAME, task="pair").path == demo.path
    # a path: the pairing file as named; a folder is searched for the MSA Transformer's file name
    assert resolve_model(demo.path, task="pair").source == "path"
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / f"{MSA_MODEL_NAME}.pt").write_bytes(b"x")
    assert resolve_model(tmp_path / "w", task="pair").path.name == f"{MSA_MODEL_NAME}.pt"
    # defaults: the shipped sequencer; the pretrained MSA Transformer is searched for (offline here: not found)
    shipped = resolve_model(task="sequence")
    assert shipped.format == "protlm-sequencer" and shipped.source == "shipped"
    with pytest.raises(WeightsNotFoundError, match="download through fair-esm .disabled by .PROTLM_OFFLINE"):
        resolve_model(task="pair")
    # sequencing files are told apart by content
    assert resolve_model(shipped.path, task="sequence").format == "protlm-sequencer"
    esm_like = tmp_path / "finetuned.pt"
    with zipfile.ZipFile(esm_like, "w") as z:  # a torch zip archive without protlm's format marker
        z.writestr("finetuned/data.pkl", b"\x80\x02}q\x00(X\x03\x00\x00\x00cfgq\x01")
    r = resolve_model(esm_like, task="sequence")
    assert r.format == "esm2" and r.model_name == "esm2_finetuned"
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    assert resolve_model(text, task="sequence").format == "protlm-sequencer"  # its loader names the file
    # ESM-2 names go through the search order
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "esm2_t6_8M_UR50D.pt").write_bytes(b"x")
    monkeypatch.setenv("PROTLM_WEIGHTS_DIR", str(tmp_path / "dir"))
    assert resolve_model("esm2_t6_8M_UR50D", task="sequence").source == "env:PROTLM_WEIGHTS_DIR"


@pytest.mark.parametrize("value, task, fragment", [
    ("esm2_t6_8M_UR50D", "pair", "not a model name of this command (esm_msa1b_t12_100M_UR50S, malg_malk_demo"),
    ("demo", "sequence", "not a model name of this command (protlm_sequencer, esm2_*)"),
    ("no/such.pt", "sequence", "--model no/such.pt: no such file (does not exist)"),
])
def test_unknown_names_and_missing_files(no_env, value, task, fragment):
    with pytest.raises(WeightsNotFoundError) as err:
        resolve_model(value, task=task)
    assert fragment in str(err.value)
    with pytest.raises(ValueError, match="task must be"):
        resolve_model(value, task="fold")


def _pair_args(tmp_path):
    left, right = tmp_path / "l.fasta", tmp_path / "r.fasta"
    left.write_text(">a OX=1\nACDE\n>b OX=1\nACDF\n")
    right.write_text(">x OX=1\nKLMN\n>y OX=1\nKLMP\n")
    return ["pair", str(left), str(right), "-o", str(tmp_path / "out"), "--steps", "1"]


def test_old_spelling_still_works_and_warns(no_env, tmp_path, caplog):
    runner = CliRunner()
    missing = tmp_path / "gone.pt"
    with caplog.at_level(logging.WARNING, logger="protlm"):
        res = runner.invoke(main, _pair_args(tmp_path) + ["--weights", str(missing)])
    assert res.exit_code == 2 and "--model" in res.output and "gone.pt" in res.output and "does not exist" in res.output
    assert "--weights is deprecated: use --model" in res.output + caplog.text
    new = runner.invoke(main, _pair_args(tmp_path) + ["--model", str(missing)])
    assert new.exit_code == 2 and "deprecated" not in new.output
    def untimed(text):  # log lines start with the time of day, which may tick between the two runs
        return re.sub(r"^\d\d:\d\d:\d\d ", "", text, flags=re.M)

    assert untimed(re.sub(r"^.*WARNING.*\n", "", res.output, flags=re.M)) == untimed(new.output)  # the same resolution
    both = runner.invoke(main, _pair_args(tmp_path) + ["--model", "demo", "--weights", str(missing)])
    assert both.exit_code == 2 and "name different models" in both.output
    same = runner.invoke(main, _pair_args(tmp_path) + ["--model", str(missing), "--weights", str(missing)])
    assert same.exit_code == 2 and "does not exist" in same.output


def test_init_takes_names(no_env, tmp_path):
    """train-pair-model --init demo starts from the shipped demo model (a name, like --model)."""
    runner = CliRunner()
    left, right = tmp_path / "l.fasta", tmp_path / "r.fasta"
    left.write_text(">a OX=1\nACDE\n>b OX=1\nACDF\n")
    right.write_text(">x OX=1\nKLMN\n>y OX=1\nKLMP\n")
    res = runner.invoke(main, ["train-pair-model", str(left), str(right), "-o", str(tmp_path / "t"),
                               "--init", "esm2_t6_8M_UR50D"])
    assert res.exit_code == 2 and "--init esm2_t6_8M_UR50D: no such file" in res.output
    assert not (tmp_path / "t").exists()  # refused before any work
    res = runner.invoke(main, ["train-sequencer", str(left), "-o", str(tmp_path / "s"), "--init", "demo"])
    assert res.exit_code == 2 and "--init demo" in res.output and "protlm_sequencer, esm2_*" in res.output
