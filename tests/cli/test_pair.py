"""`protlm pair` through click's CliRunner, with a tiny fair-esm-format model."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from protlm.cli import main
from protlm.models.esm_msa import build_msa_transformer, save_msa_checkpoint

N_ROWS = 14  # first rows of MalG/MalK: species of 8 and 6 paralogs


@pytest.fixture()
def env(monkeypatch, tmp_path):
    for var in ("PROTLM_MSA_WEIGHTS", "PROTLM_WEIGHTS_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("PROTLM_OFFLINE", "1")
    return tmp_path


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    model, _, args = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64, seed=0)
    return save_msa_checkpoint(model, args, tmp_path_factory.mktemp("w") / "tiny.pt")


@pytest.fixture(scope="module")
def small(data, tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    out = {}
    for name in ("malg", "malk"):
        text = (data(f"pairing/{name}.fasta")).read_text().split(">")[1 : N_ROWS + 1]
        (d / f"{name}.fasta").write_text("".join(">" + t for t in text))
        out[name] = d / f"{name}.fasta"
    return out


def run(args):
    return CliRunner().invoke(main, ["--log-level", "warning", *map(str, args)], catch_exceptions=False)


def _check_paired_a3m(a3m, small, pairs_tsv):
    """ColabFold's layout: header with the queries' lengths, the concatenated queries first, then the other pairs."""
    from protlm.io import read_msa

    queries = [read_msa(small[k]) for k in ("malg", "malk")]
    q = [m.sequences[0].replace("-", "") for m in queries]
    assert a3m[0] == f"#{len(q[0])},{len(q[1])}\t1,1"
    ids = [m.ids[0] for m in queries]
    assert a3m[1] == f">{ids[0]} {ids[1]} query" and a3m[2] == q[0] + q[1]
    pairs = [line.split("\t")[1:3] for line in pairs_tsv[1:]]
    others = [p for p in pairs if p[0] and p[1] and p[0] != ids[0] and p[1] != ids[1]]
    assert sum(x.startswith(">") for x in a3m) == 1 + len(others)
    assert all(sum(c.isupper() or c == "-" for c in x) == len(q[0]) + len(q[1]) for x in a3m[2::2])  # match columns


def test_diffpalm_end_to_end(env, weights, small):
    out = env / "out"
    res = run(["pair", small["malg"], small["malk"], "-o", out, "--weights", weights, "--species-key", "field:_:-1",
               "--truth", "same-order", "--steps", "2", "--runs", "2", "--device", "cpu", "--threads", "1"])
    assert res.exit_code == 0, res.output
    assert "14 pairs in 2 species" in res.output
    lines = (out / "pairs.tsv").read_text().splitlines()
    assert lines[0].split("\t") == ["species", "left_id", "right_id", "confidence", "agreement"] and len(lines) == 15
    rows = [line.split("\t") for line in lines[1:]]
    assert all(0 <= float(r[3]) <= 1 and float(r[4]) in (0.0, 0.5, 1.0) for r in rows)  # --runs 2: agreement in halves
    a3m = (out / "paired.a3m").read_text().splitlines()
    _check_paired_a3m(a3m, small, lines)
    fasta = (out / "paired.fasta").read_text().splitlines()
    assert len(fasta[1]) == 177 + 142
    report = json.loads((out / "report.json").read_text())
    assert report["method"] == "diffpalm" and report["seed"] == 0 and report["device"] == "cpu"
    assert len(report["loss"]) == 3 and report["weights"]["source"] == "path"
    assert 0 <= report["precision"] <= 1 and report["random_precision"] == pytest.approx(2 / 14)
    assert report["recall"] == report["precision"] == report["n_correct"] / report["n_true_pairs"]
    assert set(report["columns"]) == {"species", "left_id", "right_id", "confidence", "agreement"}
    assert "second half" in report["columns"]["confidence"] and set(report["metrics"]) == {"precision", "recall"}
    assert 0 <= report["mean_confidence"] <= 1 and 0 <= report["mean_agreement"] <= 1
    assert report["versions"]["torch"] and report["wall_seconds"] > 0
    assert (out / "pairing.png").stat().st_size > 1000
    # no silent overwrite
    again = run(["pair", small["malg"], small["malk"], "-o", out, "--method", "random", "--species-key", "field:_:-1"])
    assert again.exit_code == 2 and "--overwrite" in again.output
    forced = run(["pair", small["malg"], small["malk"], "-o", out, "--method", "random", "--species-key", "field:_:-1",
                  "--overwrite"])
    assert forced.exit_code == 0 and json.loads((out / "report.json").read_text())["method"] == "random"


def test_concatenated_input_and_baselines(env, small):
    records = []
    lg = small["malg"].read_text().split(">")[1:]
    lk = small["malk"].read_text().split(">")[1:]
    for a, b in zip(lg, lk):
        head, *seq_a = a.splitlines()
        _, *seq_b = b.splitlines()
        records.append(f">{head}\n{''.join(seq_a)}{''.join(seq_b)}\n")
    cat = env / "cat.fasta"
    cat.write_text("".join(records))
    for method in ("random", "mi-ipa"):
        out = env / method
        res = run(["pair", cat, "--split-at", "177", "-o", out, "--method", method, "--species-key", "field:_:-1",
                   "--truth", "same-order"])
        assert res.exit_code == 0, res.output
        report = json.loads((out / "report.json").read_text())
        assert report["method"] == method and "precision" in report and report["device"] == "cpu"
        header, first = (out / "pairs.tsv").read_text().splitlines()[:2]
        assert header.endswith("confidence\tagreement") and first.endswith("\t")  # one run: agreement empty
        assert report["mean_agreement"] is None and 0 < report["mean_confidence"] <= 1
        _check_paired_a3m((out / "paired.a3m").read_text().splitlines(), small,
                          (out / "pairs.tsv").read_text().splitlines())
    bad = run(["pair", cat, small["malk"], "--split-at", "177", "-o", env / "x", "--species-key", "field:_:-1"])
    assert bad.exit_code == 2 and "either LEFT and RIGHT" in bad.output


def test_missing_weights_fail_before_work(env, small):
    out = env / "out"
    res = run(["pair", small["malg"], small["malk"], "-o", out, "--species-key", "field:_:-1"])
    assert res.exit_code == 2
    msg = res.output.strip().splitlines()[-1]
    assert msg.startswith("protlm: error: MSA Transformer (ESM-MSA-1b) weights 'esm_msa1b_t12_100M_UR50S' not found")
    for place in ("--model (not given)", "$PROTLM_MSA_WEIGHTS (not set)", "$PROTLM_WEIGHTS_DIR", "torch hub cache",
                  str(env / "torch_home"), "download through fair-esm", "Traceback"):
        assert (place in msg) == (place != "Traceback")
    assert not (out / "report.json").exists()
    named = run(["pair", small["malg"], small["malk"], "-o", out, "--species-key", "field:_:-1", "--weights", env / "no.pt"])
    assert named.exit_code == 2 and "does not exist" in named.output


def test_no_common_species(env, weights, small):
    other = env / "other.fasta"  # the same sequences, all moved to species 999
    other.write_text("".join(
        line.rsplit("_", 1)[0] + "_999\n" if line.startswith(">") else line + "\n"
        for line in small["malk"].read_text().splitlines()
    ))
    res = run(["pair", small["malg"], other, "-o", env / "o", "--weights", weights, "--species-key", "field:_:-1"])
    assert res.exit_code == 2 and "no species in common" in res.output


def test_msa_too_deep_or_too_wide(env, weights, small):
    res = run(["pair", small["malg"], small["malk"], "-o", env / "o", "--weights", weights, "--species-key", "field:_:-1",
               "--max-depth", "5"])
    assert res.exit_code == 2 and "needs 8 rows" in res.output and "at most 5" in res.output
    res = run(["pair", small["malg"], small["malk"], "-o", env / "o", "--weights", weights, "--species-key", "field:_:-1",
               "--max-depth", "2000"])
    assert res.exit_code == 2 and "at most 1024 rows" in res.output
    wide = env / "wide.fasta"
    wide.write_text("".join(f">s{i}_sp1\n{'A' * 600}\n" for i in range(3)))
    res = run(["pair", wide, wide, "-o", env / "o", "--weights", weights, "--species-key", "field:_:-1"])
    assert res.exit_code == 2 and "1201 columns" in res.output


#: `PairingResult.write` is what `protlm pair` writes. The report.json fields that only the command knows or
#: that time a run: argv, options, started, wall_seconds (and ``method_info.seconds`` where a method records it)
TIMING_OR_COMMAND = ("argv", "options", "started", "wall_seconds")


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _report(raw):
    report = json.loads(raw)
    for key in TIMING_OR_COMMAND:
        report.pop(key)
    report["method_info"].pop("seconds", None)
    return report


@pytest.mark.parametrize("method", ["random", "mi-ipa"])
def test_library_write_gives_the_files_of_the_command(tmp_path, small, method):
    from protlm.io import read_paired_families
    from protlm.pairing.mi_ipa import pair_mi_ipa
    from protlm.pairing.random_pairing import pair_random
    from protlm.pairing.result import OUTPUTS

    cli_out, lib_out = tmp_path / "cli" / "out", tmp_path / "lib" / "out"  # same name: the structure inputs use it
    res = CliRunner().invoke(main, ["--log-level", "warning", "pair", str(small["malg"]), str(small["malk"]),
                                    "-o", str(cli_out), "--method", method, "--species-key", "field:_:-1",
                                    "--truth", "same-order"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    paired = read_paired_families(small["malg"], small["malk"], species_key="field:_:-1", truth="same-order")
    result = (pair_random if method == "random" else pair_mi_ipa)(paired, seed=0)
    result.write(lib_out, paired=paired, seed=0, inputs=[str(small["malg"]), str(small["malk"])])

    cli, lib = _files(cli_out), _files(lib_out)
    assert sorted(cli) == sorted(lib)
    assert {name.split("/")[0] for name in cli} == set(OUTPUTS)
    for name in cli:
        if name == "report.json":
            assert _report(cli[name]) == _report(lib[name])
        else:
            assert cli[name] == lib[name], name
