import gzip
import json

import pytest
from click.testing import CliRunner

from protlm.cli import main


def _random_gzip() -> bytes:
    import random

    rng = random.Random(0)
    text = "".join(f">s{i}\n" + "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(100)) + "\n" for i in range(100))
    return gzip.compress(text.encode())


def run(args, input=None):
    return CliRunner().invoke(main, ["inspect", *args], input=input)


def test_json_keys_and_values(data):
    res = run([str(data("msa/UniRef50_E9K9Y4.a3m")), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["format"] == "a3m" and d["n_sequences"] == 17 and d["n_columns"] == 98
    assert d["has_insertions"] is True
    for key in ("format", "n_sequences", "n_columns", "n_species", "gap_fraction"):
        assert key in d


def test_json_lines_for_several_files(data):
    files = ["pairing/hkrr_standard_575.fasta", "pairing/malg.fasta", "proteomes/ecoli_k12_UP000000625.fasta", "msa/fn3.sto"]
    res = run([str(data(f)) for f in files] + ["--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert [r["n_sequences"] for r in rows] == [577, 5005, 4352, 98]
    hk, mg, ec, fn3 = rows
    assert hk["n_species"] == 45 and hk["species_key"] == "auto" and hk["n_no_species"] == 1  # 44 + the DUMMY's
    assert mg["n_species"] == 880 and mg["n_duplicate_ids"] == 1
    assert ec["n_columns"] is None and ec["aligned"] is False and ec["n_residues"] == 1_353_365 and ec["n_species"] == 1
    assert fn3["n_species"] is None and fn3["n_columns"] == 117


def test_species_key_option(data):
    path = str(data("pairing/hkrr_standard_575.fasta"))
    res = run([path, "--json", "--species-key", "field:|:2"])
    assert json.loads(res.output)["n_species"] == 45
    res = run([path, "--species-key", "bogus"])
    assert res.exit_code == 2
    assert res.output.strip().startswith("protlm: error: unknown species key")


def test_human_output(data):
    res = run([str(data("msa/hhblits_uniclust_2017_10_5ahw_1_A.a3m"))])
    assert res.exit_code == 0
    assert "format        a3m" in res.output
    assert "125 match columns; insertions present" in res.output
    assert "63 duplicate identifier(s)" in res.output


def test_reports_oddities_that_are_not_errors(tmp_path):
    p = tmp_path / "odd.fasta"
    p.write_bytes(b">a OX=1\r\nACD*\r\n>\r\nacde\r\n>a OX=2\r\nKLMN\r\n")
    res = run([str(p), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["crlf"] is True and d["n_empty_ids"] == 1 and d["n_duplicate_ids"] == 1
    assert d["n_lowercase_only"] == 1 and d["n_with_stop"] == 1 and d["n_species"] == 2


def test_stdin_gzip(data):
    data = gzip.compress((data("msa/globins4.sto")).read_bytes())
    res = CliRunner().invoke(main, ["inspect", "-", "--json"], input=data)
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["path"] == "<stdin>" and d["format"] == "stockholm" and d["n_sequences"] == 4


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "empty file"),
        (b">q\nACDE\n>h\nACkD\n", "record 2, line 3"),
        (b">a\n>b\nAC\n", "record 1, line 1: header line with no sequence"),
        (bytes(range(256)), "not a text file"),
        (_random_gzip()[:2000], "truncated"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path, content, fragment):
    p = tmp_path / "bad.a3m"
    p.write_bytes(content)
    res = run([str(p)])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"protlm: error: {p}")
    assert fragment in lines[0]
    assert "Traceback" not in res.output


def test_missing_file():
    res = run(["/nonexistent/x.fasta"])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_bundled_data_inspects_and_is_credited(repo_root):
    data = repo_root / "data"
    files = sorted(p for p in data.iterdir() if p.suffix in {".a3m", ".fasta", ".fa", ".sto", ".sth", ".aln"})
    assert files, "no bundled example alignment"
    readme = (data / "README.md").read_text()
    for f in files:
        assert f"`{f.name}`" in readme, f"data/{f.name} is not credited in data/README.md"
    res = run([str(f) for f in files] + ["--json"])
    assert res.exit_code == 0, res.output
    assert len(res.output.splitlines()) == len(files)
