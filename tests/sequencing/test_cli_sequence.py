"""CLI paths and errors of protlm simulate / sequence / train-sequencer (through CliRunner)."""

import json

import pytest
from click.testing import CliRunner

from protlm.cli import main


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def simulated(tmp_path, runner, ecoli_records):
    from protlm.io import write_fasta

    src = tmp_path / "proteins.fasta"
    write_fasta(ecoli_records[:8], src)
    reads = tmp_path / "reads.fasta"
    res = runner.invoke(main, ["simulate", str(src), "-o", str(reads), "--known", "KCYM", "--efficiency", "0.9",
                               "--seed", "1"])
    assert res.exit_code == 0, res.output
    return reads, tmp_path / "reads.truth.fasta"


def _one_line_error(res):
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.startswith("protlm: error: ")]
    assert len(lines) == 1, res.output
    assert "Traceback" not in res.output
    return lines[0]


def test_simulate_then_sequence_with_truth(runner, simulated, tiny_model_path, tmp_path):
    reads, truth = simulated
    out = tmp_path / "out"
    res = runner.invoke(main, ["sequence", str(reads), "-o", str(out), "--known", "KCYM", "--efficiency", "0.9",
                               "--truth", str(truth), "--model", str(tiny_model_path), "--refine", "1"])
    assert res.exit_code == 0, res.output
    for name in ("predictions.fasta", "positions.tsv", "report.json", "confusion.png", "calibration.png"):
        assert (out / name).stat().st_size > 0
    rep = json.loads((out / "report.json").read_text())
    for key in ("accuracy_masked", "accuracy_masked_per_read", "accuracy_all"):
        assert 0 <= rep[key] <= 1
    assert rep["evaluation"]["per_residue_recall"]
    assert rep["options"]["known"] == "CKMY" and rep["options"]["efficiency"] == 0.9
    assert rep["device"] == "cpu" and rep["seed"] == 0 and rep["versions"]["torch"]
    assert rep["wall_seconds"] > 0
    header = (out / "positions.tsv").read_text().splitlines()[0].split("\t")
    assert header[:5] == ["read_id", "position", "observed", "predicted", "probability"]
    # refusing to overwrite, then --overwrite
    line = _one_line_error(runner.invoke(main, ["sequence", str(reads), "-o", str(out), "--known", "KCYM",
                                                "--model", str(tiny_model_path)]))
    assert "--overwrite" in line
    res = runner.invoke(main, ["sequence", str(reads), "-o", str(out), "--known", "KCYM", "--efficiency", "0.9",
                               "--model", str(tiny_model_path), "--overwrite"])
    assert res.exit_code == 0, res.output


def test_sequence_with_shipped_model(runner, tmp_path):
    """Offline, no options beyond the input and the known set: the shipped default model."""
    reads = tmp_path / "r.fasta"
    reads.write_text(">r1\nMXXKXXXCXXXXYXXXXXXKXX\n>r2\nXXXXXMXXXX\n")
    res = runner.invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "o"), "--known", "KCYM"])
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "o" / "report.json").read_text())
    assert rep["model"]["path"].endswith("sequencer_default.pt")
    seqs = (tmp_path / "o" / "predictions.fasta").read_text().splitlines()[1::2]
    assert seqs[0][0] == "M" and seqs[0][3] == "K" and not any(c in "KCYM" for c in seqs[1][:5])


def test_bad_read_letter_is_one_line_exit_2(runner, tmp_path, tiny_model_path):
    reads = tmp_path / "r.fasta"
    reads.write_text(">ok\nXKX\n>bad read\nXXKXAX\n")
    line = _one_line_error(runner.invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "o"), "--known",
                                                "KCYM", "--model", str(tiny_model_path)]))
    assert "r.fasta" in line and "record 2" in line and "read 'bad'" in line and "position 5: 'A'" in line


@pytest.mark.parametrize("args, message", [
    (["--known", "KCZ"], "'Z' is not a standard residue"),
    (["--known", "KCYM", "--model", "nowhere.pt"], "--model nowhere.pt: no such file (does not exist)"),
])
def test_option_errors(runner, tmp_path, args, message):
    reads = tmp_path / "r.fasta"
    reads.write_text(">a\nXKX\n")
    line = _one_line_error(runner.invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "o"), *args]))
    assert message in line


def test_efficiency_out_of_range(runner, tmp_path):
    reads = tmp_path / "r.fasta"
    reads.write_text(">a\nXKX\n")
    res = runner.invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "o"), "--known", "K", "--efficiency", "0"])
    assert res.exit_code == 2 and "efficiency" in res.output


def test_truth_mismatch_is_one_line(runner, tmp_path, tiny_model_path):
    reads = tmp_path / "r.fasta"
    reads.write_text(">a\nXKX\n")
    truth = tmp_path / "t.fasta"
    truth.write_text(">b\nAKA\n")
    line = _one_line_error(runner.invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "o"), "--known", "K",
                                                "--truth", str(truth), "--model", str(tiny_model_path)]))
    assert "no truth sequence" in line and "'a'" in line


def test_bad_weights_file(runner, tmp_path):
    reads = tmp_path / "r.fasta"
    reads.write_text(">a\nXKX\n")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    line = _one_line_error(runner.invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "o"), "--known", "K",
                                                "--model", str(bad)]))
    assert "bad.pt" in line and "cannot read sequencer weights" in line


def test_simulate_options_and_refusal(runner, tmp_path, ecoli_records):
    from protlm.io import read_fasta, write_fasta

    src = tmp_path / "p.fasta"
    write_fasta(ecoli_records[:3], src)
    out = tmp_path / "pep.fasta"
    res = runner.invoke(main, ["simulate", str(src), "-o", str(out), "--known", "KCYM", "--fragment", "tryptic",
                               "--min-length", "7"])
    assert res.exit_code == 0, res.output
    peps = read_fasta(out)
    truth = read_fasta(tmp_path / "pep.truth.fasta")
    assert all(len(p.sequence) >= 7 for p in peps) and [p.id for p in peps] == [t.id for t in truth]
    assert all("/" in p.id for p in peps)
    record = json.loads((tmp_path / "pep.json").read_text())  # the sidecar: how the reads were made
    assert (record["seed"], record["fragment"], record["min_length"], record["efficiency"]) == (0, "tryptic", 7, 1.0)
    assert set(record["known"]) == set("KCYM") and record["reads"] == "pep.fasta" and record["protlm_version"]
    line = _one_line_error(runner.invoke(main, ["simulate", str(src), "-o", str(out), "--known", "KCYM"]))
    assert "exists" in line
    res = runner.invoke(main, ["simulate", str(src), "-o", str(out), "--known", "KCYM", "--fragment", "-3"])
    assert res.exit_code == 2 and "fragment" in res.output.lower()


@pytest.mark.slow
def test_train_sequencer_cli_tiny(runner, tmp_path, ecoli_records):
    from protlm.io import write_fasta

    src = tmp_path / "p.fasta"
    write_fasta(ecoli_records, src)
    out = tmp_path / "run"
    args = ["train-sequencer", str(src), "-o", str(out), "--max-steps", "3", "--eval-every", "3", "--d-model", "16",
            "--layers", "1", "--heads", "2", "--d-ff", "32", "--max-len", "64", "--batch-size", "4",
            "--valid-fraction", "0.2", "--test-fraction", "0.2", "--export", str(tmp_path / "w.pt")]
    res = runner.invoke(main, args)
    assert res.exit_code == 0, res.output
    assert (out / "split.tsv").exists() and (tmp_path / "w.pt").exists()
    rep = json.loads((out / "report.json").read_text())
    assert rep["result"]["step"] == 3 and rep["data"]["split"]["method"] == "kmer"
    # the exported weights serve `protlm sequence`
    reads = tmp_path / "r.fasta"
    reads.write_text(">a\nXKXXC\n")
    res = runner.invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "o"), "--known", "KC",
                               "--model", str(tmp_path / "w.pt")])
    assert res.exit_code == 0, res.output


@pytest.mark.slow
def test_train_sequencer_init_from_protlm_weights_and_peptides(runner, tmp_path, ecoli_records):
    """--init with a protlm weights file trains that model further (its architecture kept), with peptide windows;
    --peptides is recorded and predicts."""
    from protlm.io import write_fasta

    src = tmp_path / "p.fasta"
    write_fasta(ecoli_records, src)
    common = ["--max-steps", "2", "--eval-every", "2", "--max-len", "64", "--batch-size", "4",
              "--valid-fraction", "0.2", "--test-fraction", "0.2"]
    res = runner.invoke(main, ["train-sequencer", str(src), "-o", str(tmp_path / "a"), "--arch", "conv",
                               "--d-model", "16", "--layers", "2", *common])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["train-sequencer", str(src), "-o", str(tmp_path / "b"), "--init",
                               str(tmp_path / "a" / "best.pt"), "--fragment-fraction", "0.5", *common])
    assert res.exit_code == 0, res.output
    from protlm.models.sequencer import load_sequencer

    model, meta = load_sequencer(tmp_path / "b" / "best.pt")
    assert model.config["arch"] == "conv" and model.config["d_model"] == 16
    assert meta["init"]["step"] == 2 and meta["training_config"]["fragment_fraction"] == 0.5
    # the metadata describes the model that loads, not the CLI's default shape options
    assert meta["architecture"] == model.config == meta["init"]["architecture"]
    assert "arch" not in meta["training_config"] and "d_model" not in meta["training_config"]
    # resuming with changed options is refused (one line, exit 2); --overwrite starts afresh
    changed = ["train-sequencer", str(src), "-o", str(tmp_path / "a"), "--arch", "conv", "--d-model", "16",
               "--layers", "2", *common[:-4], "--lr", "0.01", *common[-4:]]
    line = _one_line_error(runner.invoke(main, changed))
    assert "other settings" in line and "lr: 0.001 -> 0.01" in line
    res = runner.invoke(main, changed + ["--overwrite"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, changed + ["--max-steps", "3"])  # a stopping option may change
    assert res.exit_code == 0, res.output
    reads = tmp_path / "r.fasta"
    reads.write_text(">pep\nXKXXCXX\n")
    res = runner.invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "o"), "--known", "KC", "--peptides",
                               "--model", str(tmp_path / "b" / "best.pt")])
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "o" / "report.json").read_text())
    assert rep["options"]["peptides"] is True and rep["prediction"]["termini"] is False


def test_train_sequencer_init_missing_file_is_one_line_exit_2(runner, tmp_path):
    src = tmp_path / "p.fasta"
    src.write_text(">a\n" + "MKV" * 20 + "\n")
    line = _one_line_error(runner.invoke(main, ["train-sequencer", str(src), "-o", str(tmp_path / "run"),
                                                "--init", str(tmp_path / "nosuch.pt")]))
    assert "--init" in line and "no such file" in line
    assert not (tmp_path / "run").exists()  # refused before any work
