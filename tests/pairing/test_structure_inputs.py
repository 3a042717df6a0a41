"""AlphaFold 3 and Boltz inputs, checked against the rules their documentation states.

AlphaFold 3 (github.com/google-deepmind/alphafold3, docs/input.md): top-level
``name``, ``modelSeeds`` (at least one), ``sequences``, ``dialect: alphafold3``
and a documented ``version`` (1-4); a protein has ``id``, ``sequence``, and
``pairedMsa`` / ``unpairedMsa`` both set or both unset; a custom MSA is A3M,
its first row exactly the query sequence, every row as long as the query once
lowercase insertions are removed.  Pre-paired MSAs go in ``unpairedMsa`` with
``pairedMsa: ""`` (rows line up across chains, gap rows as padding).

Boltz (github.com/jwohlwend/boltz, docs/prediction.md and
src/boltz/data/parse/csv.py): YAML ``version: 1``, ``sequences`` of
``protein: {id, sequence, msa}``; a multi-chain custom MSA is a CSV with the
columns ``key`` and ``sequence``; rows of different chains sharing a key are
paired, key -1 (or empty) never pairs, the first rows always pair.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from protlm.errors import PairingInputError
from protlm.io import MSA, PairedFamilies, read_a3m
from protlm.pairing.export import af3_input, complex_rows, write_structure_inputs
from protlm.pairing.result import PairingResult

AF3_VERSIONS = (1, 2, 3, 4)


def check_a3m(text: str, sequence: str) -> list:
    """The documented A3M rules of a custom AlphaFold 3 MSA; returns the row ids."""
    assert re.fullmatch(r"(>[^\n]*\n[A-Za-z\-]+\n)+", text), "A3M: header line, then one sequence line, per row"
    msa = read_a3m(io.StringIO(text))
    assert msa.sequences[0] == sequence, "the first row is exactly the query sequence"
    for row in text.split("\n")[1::2]:
        assert len(re.sub("[a-z]", "", row)) == len(sequence), "rows as long as the query without insertions"
    return list(msa.ids)


def check_af3(job: dict) -> dict:
    """Every rule docs/input.md states for what protlm writes; returns {chain id: (paired ids, unpaired ids)}."""
    assert set(job) >= {"name", "modelSeeds", "sequences", "dialect", "version"}
    assert isinstance(job["name"], str) and job["name"]
    assert job["modelSeeds"] and all(isinstance(s, int) for s in job["modelSeeds"])
    assert job["dialect"] == "alphafold3" and job["version"] in AF3_VERSIONS
    out = {}
    for entity in job["sequences"]:
        (kind, chain), = entity.items()
        assert kind == "protein"
        assert re.fullmatch(r"[A-Z]+", chain["id"]) and chain["id"] not in out, "unique uppercase ids"
        assert re.fullmatch(r"[ACDEFGHIKLMNPQRSTVWYXBZUO]+", chain["sequence"])
        assert isinstance(chain["pairedMsa"], str) and isinstance(chain["unpairedMsa"], str), "both MSAs set"
        assert chain["templates"] == []
        ids = [check_a3m(chain[k], chain["sequence"]) if chain[k] else [] for k in ("pairedMsa", "unpairedMsa")]
        out[chain["id"]] = tuple(ids)
    return out


def check_boltz(folder: Path, yaml_name="complex.yaml") -> dict:
    """The YAML schema and the CSV key rules; returns {chain id: [(key, sequence), ...]}."""
    yaml = pytest.importorskip("yaml")
    spec = yaml.safe_load((folder / yaml_name).read_text())
    assert spec["version"] == 1
    chains = {}
    for entity in spec["sequences"]:
        (kind, chain), = entity.items()
        assert kind == "protein" and set(chain) == {"id", "sequence", "msa"}
        with open(folder / chain["msa"], newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == ["key", "sequence"]
        body = [(int(k), s) for k, s in rows[1:]]
        assert body[0] == (0, chain["sequence"]), "the query first"
        for _, s in body:
            assert len(re.sub("[a-z]", "", s)) == len(chain["sequence"])
        keys = [k for k, _ in body[1:] if k != -1]
        assert len(keys) == len(set(keys)) and all(k > 0 for k in keys), "a pair key once per chain"
        chains[chain["id"]] = body
    paired = [{k for k, _ in body[1:] if k != -1} for body in chains.values()]
    assert all(p == paired[0] for p in paired), "every pair key is in every chain"
    return chains


@pytest.fixture
def problem():
    """Query first in both chains; a left row with no species, a right-only species, a row matched to padding."""
    left = MSA.from_sequences(["MKV-L", "MKI-L", "MRVAL", "MKVGL", "AKVLL", "MKVLA"],
                              ids=["101", "a_1", "b_1", "c_1", "nokey", "d_2"])
    right = MSA.from_sequences(["ACDE", "ACDF", "ACEE", "GCDE"], ids=["102", "x_1", "y_1", "z_3"])
    pf = PairedFamilies.from_msas(left, right, species_key="field:_:-1")
    result = PairingResult(method="random", species=("1", "1", "1"), left_rows=np.array([1, 2, 3]),
                           right_rows=np.array([2, 1, -1]), left_ids=("a_1", "b_1", "c_1"),
                           right_ids=("y_1", "x_1", None), confidence=np.array([0.5, 0.5, np.nan]))
    return result, pf


def test_rows(problem):
    result, pf = problem
    rows = complex_rows(result, pf)
    assert rows.query == (0, 0) and rows.pairs == ((1, 2), (2, 1))
    assert rows.left_unpaired == (3, 4, 5) and rows.right_unpaired == (3,)


def test_af3_unpaired_layout_lines_up_the_pairs(problem):
    result, pf = problem
    job = af3_input(result, pf, name="job", seeds=(7,))
    chains = check_af3(job)
    a, b = (job["sequences"][i]["protein"] for i in (0, 1))
    assert a["sequence"] == "MKVL" and b["sequence"] == "ACDE"  # the query's gap column became an insertion
    assert a["pairedMsa"] == b["pairedMsa"] == ""
    ua, ub = chains["A"][1], chains["B"][1]
    assert len(ua) == len(ub)  # same depth: every row lines up
    assert list(zip(ua, ub))[:3] == [("101", "102"), ("a_1", "y_1"), ("b_1", "x_1")]
    rows_a = a["unpairedMsa"].split("\n")[1::2]
    rows_b = b["unpairedMsa"].split("\n")[1::2]
    # chain A's unpaired rows face gap rows of B, then B's face gap rows of A
    assert ua[3:] == ["c_1", "nokey", "d_2", "z_3"] and set(rows_b[3:6]) == {"----"} and rows_a[6] == "----"
    assert rows_a[1:3] == ["MKIL", "MRVaL"]  # against the query's gap column: a gap is dropped, 'A' an insertion


def test_af3_paired_layout(problem):
    result, pf = problem
    chains = check_af3(af3_input(result, pf, layout="paired"))
    assert list(zip(chains["A"][0], chains["B"][0])) == [("101", "102"), ("a_1", "y_1"), ("b_1", "x_1")]
    assert chains["A"][1] == ["101", "c_1", "nokey", "d_2"] and chains["B"][1] == ["102", "z_3"]


def test_boltz_keys(problem, tmp_path):
    result, pf = problem
    write_structure_inputs(tmp_path, result, pf)
    chains = check_boltz(tmp_path / "boltz")
    a, b = chains["A"], chains["B"]
    assert [k for k, _ in a] == [0, 1, 2, -1, -1, -1] and [k for k, _ in b] == [0, 1, 2, -1]
    assert json.loads((tmp_path / "af3_input.json").read_text())["sequences"][0]["protein"]["id"] == "A"


def test_boltz_own_csv_parser(problem, tmp_path):
    """Boltz's parse_csv (only when boltz is importable: it is not a protlm dependency)."""
    parse_csv = pytest.importorskip("boltz.data.parse.csv").parse_csv
    result, pf = problem
    write_structure_inputs(tmp_path, result, pf)
    for chain, keys in (("A", [0, 1, 2, -1, -1, -1]), ("B", [0, 1, 2, -1])):
        msa = parse_csv(tmp_path / "boltz" / f"{chain}.csv")
        assert msa.sequences["taxonomy"].tolist() == keys


def test_query_by_id_and_family_alignments_without_query(problem):
    result, pf = problem
    rows = complex_rows(result, pf, query_left="d_2", query_right="z_3")
    assert rows.query == (5, 3) and 0 in rows.left_unpaired and 0 in rows.right_unpaired
    job = af3_input(result, pf, query_left="d_2", query_right="z_3")
    check_af3(job)
    assert job["sequences"][0]["protein"]["sequence"] == "MKVLA"
    with pytest.raises(PairingInputError, match="query 'nope' is not in the left MSA"):
        complex_rows(result, pf, query_left="nope")


def test_a_pair_holding_a_query_row_is_not_repeated(problem):
    result, pf = problem
    rows = complex_rows(result, pf, query_left="a_1")
    assert rows.query == (1, 0) and (1, 2) not in rows.pairs and 2 in rows.right_unpaired


# --------------------------------------------------------------------------- the command, end to end
def _colabfold_inputs(repo_root: Path, tmp_path: Path) -> tuple:
    """The bundled MalG/MalK example as two ColabFold/MMseqs2 unpaired A3Ms (query first, ids with no
    species: UniRef100_ACC<TAB>scores, every fifth one UPI...) and a UniRef-format taxonomy FASTA that
    names all of them but two."""
    from protlm.io import read_fasta

    files, taxonomy = [], []
    for side, name in enumerate(("malg_example.fasta", "malk_example.fasta")):
        records = read_fasta(repo_root / "data" / name)
        lines = [f">{101 + side}", records[0].sequence.replace("-", "").upper()]
        query = records[0].sequence
        for k, rec in enumerate(records):
            acc, taxid = rec.id.split("_")[side], rec.id.split("_")[-1]
            ident = f"UPI{k:010X}" if k % 5 == 4 else f"UniRef100_{acc}"
            # hit rows in A3M against the gap-free query: the query's gap columns are insertions
            row = "".join((c.lower() if c != "-" else "") if q == "-" else c for c, q in zip(rec.sequence, query))
            lines += [f"{ident}\t{300 - k}\t0.{k:03d}\t1.0E-30\t0\t{len(query)}", row]
            if k not in (7, 8):  # two rows the taxonomy does not name: kept, unpaired
                taxonomy.append(f">UniRef100_{ident.removeprefix('UniRef100_')} protein n=1 Tax=x TaxID={taxid} RepID=R{k}\nMKV\n")
        path = tmp_path / f"{'AB'[side]}.a3m"
        path.write_text("\n".join(">" + x if i % 2 == 0 and i else x for i, x in enumerate(lines)).replace(">>", ">") + "\n")
        files.append(path)
    tax = tmp_path / "uniref_taxonomy.fasta"
    tax.write_text("".join(taxonomy))
    return files[0], files[1], tax


def test_pair_writes_structure_inputs_from_colabfold_a3ms(repo_root, tmp_path):
    from click.testing import CliRunner

    from protlm.cli import main

    left, right, tax = _colabfold_inputs(repo_root, tmp_path)
    out = tmp_path / "out"
    args = ["pair", str(left), str(right), "-o", str(out), "--method", "mi-ipa", "--truth", "same-order"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and "--taxonomy FILE" in res.output  # ids alone carry no species
    res = CliRunner().invoke(main, [*args, "--taxonomy", str(tax)])
    assert res.exit_code == 0, res.output
    assert "left 48/51 from taxonomy, 0 from headers, 3 without a species" in res.output
    report = json.loads((out / "report.json").read_text())
    assert report["data"]["taxonomy"]["files"][0]["n_matched"] == 96
    assert report["data"]["n_no_key_left"] == 3 and report["precision"] > report["random_precision"]
    n_pairs = report["structure_inputs"]["n_paired_rows"]
    assert n_pairs == report["n_pairs"] > 0

    # AlphaFold 3: the documented rules, and the pairs row by row after the query
    job = json.loads((out / "af3_input.json").read_text())
    chains = check_af3(job)
    pairs = {(row["left_id"], row["right_id"]) for row in csv.DictReader(open(out / "pairs.tsv"), delimiter="\t")}
    ua, ub = chains["A"][1], chains["B"][1]
    assert (ua[0], ub[0]) == ("101", "102") and len(ua) == len(ub) == 1 + n_pairs + (51 - 1 - n_pairs) * 2
    assert set(zip(ua[1 : 1 + n_pairs], ub[1 : 1 + n_pairs])) == pairs
    # every row of each chain is there once (unpaired ones too: the two the taxonomy does not name, the
    # rows matched to padding); the other rows of the unpaired block are all-gap padding
    for chain, path in zip(job["sequences"], (left, right)):
        msa = read_a3m(io.StringIO(chain["protein"]["unpairedMsa"]))
        own = [i for i, s in zip(msa.ids, msa.sequences) if set(s) != {"-"}]
        assert sorted(own) == sorted(read_a3m(path).ids)

    # Boltz: YAML + CSV key rules; the keys give the same pairs
    chains = check_boltz(out / "boltz")
    by_key = {}
    for side in "AB":
        seqs = [s for _, s in chains[side]]
        assert len(seqs) == 51
        for key, _ in chains[side]:
            if key > 0:
                by_key.setdefault(key, []).append(side)
    assert len(by_key) == n_pairs and all(v == ["A", "B"] for v in by_key.values())

    # rerun: refuses to replace the outputs without --overwrite
    res = CliRunner().invoke(main, [*args, "--taxonomy", str(tax)])
    assert res.exit_code == 2 and "af3_input.json" in res.output and "boltz" in res.output


def test_pair_malformed_taxonomy_is_one_line(repo_root, tmp_path):
    from click.testing import CliRunner

    from protlm.cli import main

    left, right, _ = _colabfold_inputs(repo_root, tmp_path)
    bad = tmp_path / "bad.tsv"
    bad.write_text("A0A1\t562\nA0A2\t562\t9\n")
    res = CliRunner().invoke(main, ["pair", str(left), str(right), "-o", str(tmp_path / "o"), "--method", "random",
                                    "--taxonomy", str(bad)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert f"{bad}: line 2: expected 2 tab-separated columns" in res.output.strip().splitlines()[-1]
    assert not (tmp_path / "o").exists()
