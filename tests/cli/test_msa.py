"""protlm msa: the command, its errors (one line, exit 2, nothing written), and protlm pair on the A3Ms it builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from protlm.cli import main
from protlm.io import read_a3m

ROOT = Path(__file__).resolve().parents[2]
QUERIES = str(ROOT / "data" / "envz_ompr.fasta")
DB = str(ROOT / "data" / "hk_rr_uniprot.fasta.gz")


def run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def chains(tmp_path_factory):
    out = tmp_path_factory.mktemp("msa")
    paths = []
    for record in (1, 2):
        a3m = out / f"chain{record}.a3m"
        res = run("msa", QUERIES, "--record", str(record), "--db", DB, "-o", str(a3m), "--iterations", "1",
                  "--table", str(out / f"chain{record}.tsv"))
        assert res.exit_code == 0, res.output
        assert " hits (" in res.output and "without a taxonomy id" in res.output
        paths.append(a3m)
    return out, paths


def test_writes_a3m_with_query_first_and_a_table(chains):
    out, (envz, ompr) = chains
    for path, query, length in ((envz, "sp|P0AEJ4|ENVZ_ECOLI", 450), (ompr, "sp|P0AA16|OMPR_ECOLI", 239)):
        msa = read_a3m(path)
        assert msa.ids[0] == query
        assert msa.n_columns == length and msa.n_sequences > 20
    table = (out / "chain2.tsv").read_text().splitlines()
    assert table[0].split("\t")[:5] == ["rank", "id", "accession", "taxid", "organism"]
    assert len(table) == read_a3m(ompr).n_sequences  # header line + one line per hit (the query has none)


def test_pair_finds_the_species_and_counts_species_less_rows(chains, tmp_path):
    """OX= carried through the headers gives species with --species-key auto; hits without it are counted, not dropped."""
    _, (envz, ompr) = chains
    res = run("pair", str(envz), str(ompr), "-o", str(tmp_path / "auto"), "--method", "random")
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "auto" / "report.json").read_text())
    data = report["data"]
    n_no_ox = [sum(" OX=" not in d for d in read_a3m(p).descriptions) for p in (envz, ompr)]
    assert min(n_no_ox) > 0
    assert (data["n_no_key_left"], data["n_no_key_right"]) == tuple(n_no_ox)
    assert data["n_species"] == 1 and data["n_left"] == read_a3m(envz).n_sequences  # E. coli (OX=83333)
    res = run("pair", str(envz), str(ompr), "-o", str(tmp_path / "os"), "--method", "random", "--species-key", "os")
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "os" / "report.json").read_text())["data"]
    assert data["n_species"] >= 5 and data["n_no_key_left"] == 0  # every UniProt header has OS=


@pytest.mark.parametrize(
    "args, message",
    [
        ((QUERIES, "--db", DB), "holds 2 records; choose the query with --record N (1 to 2)"),
        ((QUERIES, "--record", "3", "--db", DB), "--record 3 asked for, but the file holds 2 record(s)"),
        ((QUERIES, "--record", "1", "--db", QUERIES.replace("envz_ompr.fasta", "README.md")), "README.md"),
        ((QUERIES, "--record", "1", "--db", DB, "--engine", "mmseqs2", "--env-empty-path"), "'mmseqs' binary"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, monkeypatch, args, message):
    args = list(args)
    if "--env-empty-path" in args:
        args.remove("--env-empty-path")
        monkeypatch.setenv("PATH", "")
    out = tmp_path / "out.a3m"
    res = CliRunner().invoke(main, ["msa", *args, "-o", str(out)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("protlm: error: ") and message in lines[0], res.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_existing_output_is_refused_before_the_search(tmp_path):
    out = tmp_path / "out.a3m"
    out.write_text("keep me")
    res = run("msa", QUERIES, "--record", "2", "--db", DB, "-o", str(out))
    assert res.exit_code == 2 and "exists; pass --overwrite" in res.output
    assert out.read_text() == "keep me"


def test_help_lists_the_engines_and_defaults():
    res = run("msa", "--help")
    assert res.exit_code == 0
    for text in ("pyhmmer", "mmseqs2", "--iterations", "default: 3", "--max-hits", "--min-coverage", "--threads"):
        assert text in res.output
    assert "msa" in run("--help").output
