"""`protlm summarize`: one table across runs; broken reports are one-line errors."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from protlm.cli import main


def _report(path, **fields):
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(fields))
    return str(path)


def test_pairing_table_and_plot(tmp_path):
    a = _report(tmp_path / "famA" / "report.json", method="mi-ipa", n_species=3, n_pairs=10, precision=0.5,
                random_precision=0.3, wall_seconds=1.5)
    b = _report(tmp_path / "famB" / "report.json", method="random", n_species=2, n_pairs=4, precision=0.25,
                random_precision=0.5, wall_seconds=0.1)
    res = CliRunner().invoke(main, ["summarize", "pairing", a, b, "-o", str(tmp_path / "s.tsv"),
                                    "--plot", str(tmp_path / "s.png")])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "s.tsv", sep="\t")
    assert list(table["name"]) == ["famA", "famB"]
    assert list(table["precision"]) == [0.5, 0.25]
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_sequencing_names_and_options(tmp_path):
    a = _report(tmp_path / "x" / "report.json", options={"known": "KCYM", "efficiency": 0.9}, n_reads=5,
                accuracy_masked=0.2, accuracy_masked_per_read=0.21, accuracy_all=0.3)
    res = CliRunner().invoke(main, ["summarize", "sequencing", a, "--name", "KCYM", "-o", str(tmp_path / "s.tsv")])
    assert res.exit_code == 0, res.output
    row = pd.read_csv(tmp_path / "s.tsv", sep="\t").iloc[0]
    assert (row["name"], row["known"], row["efficiency"], row["accuracy_masked"]) == ("KCYM", "KCYM", 0.9, 0.2)


def test_broken_report_is_one_line_error(tmp_path):
    bad = tmp_path / "r" / "report.json"
    bad.parent.mkdir()
    bad.write_text('{"method": "x",\n oops}')
    res = CliRunner().invoke(main, ["summarize", "pairing", str(bad), "-o", str(tmp_path / "s.tsv")])
    assert res.exit_code == 2
    assert str(bad) in res.output and "line 2" in res.output
    assert not (tmp_path / "s.tsv").exists()


def test_existing_outputs_are_kept_without_overwrite(tmp_path):
    a = _report(tmp_path / "famA" / "report.json", method="random", n_species=2, n_pairs=4, precision=0.25,
                random_precision=0.5, wall_seconds=0.1)
    table, plot = tmp_path / "s.tsv", tmp_path / "s.png"
    plot.write_text("old plot")
    res = CliRunner().invoke(main, ["summarize", "pairing", a, "-o", str(table), "--plot", str(plot)])
    assert res.exit_code == 2 and "--overwrite" in res.output and "Traceback" not in res.output
    assert plot.read_text() == "old plot" and not table.exists()
    res = CliRunner().invoke(main, ["summarize", "pairing", a, "-o", str(table), "--plot", str(plot), "--overwrite"])
    assert res.exit_code == 0, res.output
    assert plot.read_bytes()[:4] == b"\x89PNG" and table.exists()
