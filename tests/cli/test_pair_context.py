"""`protlm pair --context/--context-pairs/--known-pairs/--max-rows`, orthologs first and DiffPALM's resume folder."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from protlm.cli import main
from protlm.models.esm_msa import build_msa_transformer, save_msa_checkpoint

N_ROWS = 14  # first rows of MalG/MalK: species of 8 and 6 paralogs; the rows after them are the context


@pytest.fixture(scope="module")
def files(data, tmp_path_factory):
    d = tmp_path_factory.mktemp("ctx")
    out = {}
    for name in ("malg", "malk"):
        records = [">" + t for t in data(f"pairing/{name}.fasta").read_text().split(">")[1:]]
        (d / f"{name}.fasta").write_text("".join(records[:N_ROWS]))
        (d / f"{name}_ctx.fasta").write_text("".join(records[N_ROWS:N_ROWS + 200]))
        out[name] = d / f"{name}.fasta"
        out[f"{name}_ctx"] = d / f"{name}_ctx.fasta"
        out[f"{name}_ids"] = [r[1:].split()[0] for r in records]
    return out


def run(args):
    return CliRunner().invoke(main, ["--log-level", "warning", *map(str, args)], catch_exceptions=False)


def test_context_and_known_pairs_on_the_cli(files, tmp_path):
    out = tmp_path / "out"
    known = tmp_path / "known.tsv"
    known.write_text(f"left_id\tright_id\n{files['malg_ids'][0]}\t{files['malk_ids'][0]}\n")
    ctx_pairs = tmp_path / "ctx.tsv"
    ctx_pairs.write_text("".join(f"{a}\t{b}\n" for a, b in zip(files["malg_ids"][N_ROWS:N_ROWS + 200],
                                                                files["malk_ids"][N_ROWS:N_ROWS + 200])))
    res = run(["pair", files["malg"], files["malk"], "-o", out, "--method", "mi-ipa", "--species-key", "field:_:-1",
               "--truth", "same-order", "--context", files["malg_ctx"], files["malk_ctx"], "--context-pairs", ctx_pairs,
               "--known-pairs", known])
    assert res.exit_code == 0, res.output
    assert "0 orthologs paired directly, 1 known pairs, 13 by mi-ipa; 200 context pairs used" in res.output
    report = json.loads((out / "report.json").read_text())
    assert report["routes"] == {"orthologs": 0, "known_pairs": 1, "optimised": 13, "context_pairs": 200}
    assert report["data"]["context"]["n_pairs"] == 200 and report["options"]["known_pairs"] == str(known)
    assert report["method_info"]["n_known"] == 1
    assert report["options"]["homology_weight"] == 1.0 and report["method_info"]["homology_weight"] == 1.0
    pairs = [line.split("\t") for line in (out / "pairs.tsv").read_text().splitlines()[1:]]
    assert [files["malg_ids"][0], files["malk_ids"][0]] in [p[1:3] for p in pairs]
    # --homology-weight 0: MI-IPA with the PMI of the context alone, as published
    res = run(["pair", files["malg"], files["malk"], "-o", tmp_path / "pmi", "--method", "mi-ipa", "--species-key",
               "field:_:-1", "--context", files["malg_ctx"], files["malk_ctx"], "--homology-weight", "0"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "pmi" / "report.json").read_text())["method_info"]["homology_weight"] == 0.0
    res = run(["pair", files["malg"], files["malk"], "-o", tmp_path / "neg", "--method", "mi-ipa", "--species-key",
               "field:_:-1", "--context", files["malg_ctx"], files["malk_ctx"], "--homology-weight", "-1"])
    assert res.exit_code == 2 and "--homology-weight" in res.output and not (tmp_path / "neg").exists()
    for extra in (["--method", "entropy-bootstrap", "--context", files["malg_ctx"], files["malk_ctx"]],
                  ["--method", "mi-ipa"]):  # a weight nothing would use: refused, nothing written
        res = run(["pair", files["malg"], files["malk"], "-o", tmp_path / "unused", "--species-key", "field:_:-1",
                   *extra, "--homology-weight", "2"])
        assert res.exit_code == 2 and "--homology-weight" in res.output, res.output
        assert not (tmp_path / "unused").exists() and "Traceback" not in res.output
    # same order without --context-pairs; entropy bootstrap takes the context too
    res = run(["pair", files["malg"], files["malk"], "-o", tmp_path / "eb", "--method", "entropy-bootstrap",
               "--species-key", "field:_:-1", "--context", files["malg_ctx"], files["malk_ctx"]])
    assert res.exit_code == 0 and "200 context pairs used" in res.output


def test_orthologs_and_max_rows(files, tmp_path):
    # one ortholog species added: paired directly
    left = files["malg"].read_text() + ">orphanL_77\n" + "A" * 177 + "\n"
    right = files["malk"].read_text() + ">orphanR_77\n" + "C" * 142 + "\n"
    (tmp_path / "l.fasta").write_text(left)
    (tmp_path / "r.fasta").write_text(right)
    res = run(["pair", tmp_path / "l.fasta", tmp_path / "r.fasta", "-o", tmp_path / "o", "--method", "mi-ipa",
               "--species-key", "field:_:-1", "--max-rows", "9"])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["routes"]["orthologs"] == 1
    assert report["data"]["n_capped_species"] == 1 and report["data"]["n_capped_rows"] in (6, 8)
    assert "--max-rows left out 1 species" in res.output


def test_diffpalm_resume_folder_is_removed(files, tmp_path, monkeypatch):
    monkeypatch.setenv("PROTLM_OFFLINE", "1")
    model, _, args = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64, seed=0)
    weights = save_msa_checkpoint(model, args, tmp_path / "tiny.pt")
    out = tmp_path / "dp"
    res = run(["pair", files["malg"], files["malk"], "-o", out, "--weights", weights, "--species-key", "field:_:-1",
               "--steps", "1", "--device", "cpu", "--threads", "1",
               "--context", files["malg_ctx"], files["malk_ctx"], "--max-depth", "400"])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text())
    assert report["method_info"]["n_context_rows"] == 200 and report["routes"]["context_pairs"] == 200
    assert not (out / ".partial").exists()


def test_diffpalm_cuts_a_deep_context_to_the_pairs_most_alike_the_input(files, tmp_path, monkeypatch):
    monkeypatch.setenv("PROTLM_OFFLINE", "1")
    model, _, args = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64, seed=0)
    weights = save_msa_checkpoint(model, args, tmp_path / "tiny.pt")
    common = ["pair", files["malg"], files["malk"], "--weights", weights, "--species-key", "field:_:-1", "--steps",
              "1", "--device", "cpu", "--threads", "1", "--context", files["malg_ctx"], files["malk_ctx"]]
    # 200 context pairs do not fit in --max-depth 100: cut to half of it (50), the input's 8-row species beside them
    res = run([*common, "-o", tmp_path / "half", "--max-depth", "100"])
    assert res.exit_code == 0, res.output
    info = json.loads((tmp_path / "half" / "report.json").read_text())["method_info"]
    assert info["n_context_rows"] == 50 and info["context_pairs_given"] == 200
    res = run([*common, "-o", tmp_path / "few", "--max-depth", "100", "--max-context-rows", "7"])
    assert res.exit_code == 0, res.output
    info = json.loads((tmp_path / "few" / "report.json").read_text())["method_info"]
    assert info["n_context_rows"] == 7 and info["routes"]["context_pairs"] == 7


def test_select_context_pairs_ranks_copies_of_the_input_first(files):
    import numpy as np

    from protlm.io import read_msa
    from protlm.pairing.homology import select_context_pairs
    from protlm.pairing.pmi import encode_residues

    left, right = read_msa(files["malg"]), read_msa(files["malk"])
    ctx_l, ctx_r = read_msa(files["malg_ctx"]), read_msa(files["malk_ctx"])
    # context = 50 other pairs, then 3 input pairs copied in: the copies must come first
    cl = np.concatenate([encode_residues(ctx_l.array[:50]), encode_residues(left.array[:3])])
    cr = np.concatenate([encode_residues(ctx_r.array[:50]), encode_residues(right.array[:3])])
    top = select_context_pairs(encode_residues(left.array), encode_residues(right.array), cl, cr, 3)
    assert sorted(top.tolist()) == [50, 51, 52]
    # the right halves of the copies shuffled away from their left halves: no longer the top three
    cr_broken = np.concatenate([encode_residues(ctx_r.array[:50]), encode_residues(ctx_r.array[50:53])])
    top = select_context_pairs(encode_residues(left.array), encode_residues(right.array), cl, cr_broken, 3)
    assert sorted(top.tolist()) != [50, 51, 52]
