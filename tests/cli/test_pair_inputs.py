"""`protlm pair` input files that are not the MSAs: one-line errors, exit 2, nothing written."""

from __future__ import annotations

from click.testing import CliRunner

from protlm.cli import main


def _msas(tmp_path):
    left, right = tmp_path / "l.fasta", tmp_path / "r.fasta"
    left.write_text(">a OX=1\nACDE\n>b OX=1\nACDF\n>c OX=2\nACDG\n>d OX=2\nACDH\n")
    right.write_text(">x OX=1\nKLMN\n>y OX=1\nKLMP\n>z OX=2\nKLMQ\n>w OX=2\nKLMR\n")
    return str(left), str(right)


def test_missing_truth_file_is_one_line_exit_2_and_no_output(tmp_path):
    left, right = _msas(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["pair", left, right, "-o", str(out), "--method", "random",
                                    "--truth", str(tmp_path / "missing.tsv")])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "missing.tsv: no such pairs file" in lines[0] and "Traceback" not in res.output
    assert not out.exists()


def test_truth_file_with_header_line(tmp_path):
    left, right = _msas(tmp_path)
    truth = tmp_path / "truth.tsv"
    truth.write_text("left_id\tright_id\na\tx\nb\ty\nc\tz\nd\tw\n")
    res = CliRunner().invoke(main, ["pair", left, right, "-o", str(tmp_path / "out"), "--method", "mi-ipa",
                                    "--truth", str(truth)])
    assert res.exit_code == 0, res.output
