"""The Snakemake workflow: dry run, a real tiny run, schema errors, no-op rerun, and the notebooks."""

from __future__ import annotations

import json

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _env():
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # the rules call `protlm`
    return env


def snakemake(*args, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900,
    )
    if check and proc.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def write_config(path: Path, outdir: Path, **changes) -> Path:
    config = yaml.safe_load((ROOT / "workflows/config/config.yaml").read_text())
    config["outdir"] = str(outdir)
    config["pairing"].update(steps=2, threads=1)
    config["sequencing"].update(known_sets=["KCYM", "KCYMRHWST"], max_reads=4, threads=1)
    config["complexes"].update(iterations=1, max_hits=40, threads=1)
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        config[section][key] = value
    path.write_text(yaml.safe_dump(config))
    return path


def test_dry_run_of_default_config(tmp_path):
    proc = snakemake("-n", "--config", f"outdir={tmp_path / 'out'}")
    text = proc.stdout + proc.stderr
    for rule in ("inspect_family", "pair_family", "summarize_pairing", "simulate_reads", "predict_reads",
                 "summarize_sequencing", "complex_msa", "pair_complex"):
        assert rule in text, rule


def test_dry_run_scatters_the_identification_into_chunks(tmp_path):
    cfg = write_config(tmp_path / "c.yaml", tmp_path / "out", sequencing__chunks=3, sequencing__known_sets=["KCYM"])
    text = "".join(snakemake("-n", "-p", "--configfile", str(cfg)).stdout)
    assert text.count("rule identify_chunk:") == 3
    for i in (1, 2, 3):
        assert f"--chunk {i}/3" in text
    gather = [ln for ln in text.splitlines() if "--gather" in ln]
    assert len(gather) == 1 and gather[0].count("--gather") == 3


def test_dry_run_of_tryptic_reads_searches_with_the_digest(tmp_path):
    # tryptic reads: both the scatter and the gather search with --digest trypsin (their scores must agree)
    cfg = write_config(tmp_path / "c.yaml", tmp_path / "out", sequencing__chunks=2, sequencing__known_sets=["KCYM"],
                       sequencing__fragment="tryptic")
    text = "".join(snakemake("-n", "-p", "--configfile", str(cfg)).stdout)
    commands = [ln for ln in text.splitlines() if "protlm sequence " in ln]
    assert len(commands) == 3 and all("--digest trypsin" in ln for ln in commands), commands
    cfg = write_config(tmp_path / "d.yaml", tmp_path / "out2", sequencing__known_sets=["KCYM"])
    assert "--digest" not in "".join(snakemake("-n", "-p", "--configfile", str(cfg)).stdout)


def test_chunked_workflow_gives_the_unchunked_results(tmp_path):
    """chunks: 3 scatters the search into three jobs; the gathered prediction equals the one-job run's."""
    outs = {}
    for n in (1, 3):
        outs[n] = tmp_path / f"out{n}"
        cfg = write_config(tmp_path / f"c{n}.yaml", outs[n], pairing__enabled=False, complexes__enabled=False,
                           sequencing__chunks=n, sequencing__known_sets=["KCYM"], sequencing__max_reads=300)
        snakemake("--configfile", str(cfg))
    pred = "sequencing/KCYM/prediction"
    assert sorted(p.name for p in (outs[3] / "sequencing/KCYM/chunks").iterdir()) == ["1", "2", "3"]
    assert not (outs[1] / "sequencing/KCYM/chunks").exists()
    for name in ("identifications.tsv", "positions.tsv", "predictions.fasta"):
        assert (outs[3] / pred / name).read_text() == (outs[1] / pred / name).read_text(), name
    import json

    report = json.loads((outs[3] / pred / "report.json").read_text())
    assert report["options"]["gathered_chunks"] == 3 and report["reference"]["identification"]["identified"] > 100


def test_lint_is_clean():
    proc = snakemake("--lint")
    assert "Congratulations" in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"pairing__steps": 0}, "steps"),
        ({"pairing__method": "magic"}, "magic"),
        ({"sequencing__known_sets": ["KCZ"]}, "KCZ"),
        ({"complexes__engine": "blast"}, "blast"),
        ({"sequencing__chunks": 0}, "chunks"),
    ],
)
def test_schema_rejects_bad_config(tmp_path, change, expected):
    cfg = write_config(tmp_path / "bad.yaml", tmp_path / "out", **change)
    proc = snakemake("-n", "--configfile", str(cfg), check=False)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "Error validating config file" in text and expected in text


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("workflow")
    out = work / "results"
    cfg = write_config(work / "tiny.yaml", out)
    snakemake("--configfile", str(cfg))
    return cfg, out


def test_tiny_run_writes_every_result(tiny_run):
    _, out = tiny_run
    for rel in ("pairing/summary.tsv", "pairing/summary.png", "pairing/malg_malk/paired.a3m",
                "pairing/malg_malk/pairs.tsv", "sequencing/summary.tsv", "sequencing/summary.png",
                "sequencing/KCYM/prediction/positions.tsv", "sequencing/KCYMRHWST/prediction/predictions.fasta"):
        assert (out / rel).stat().st_size > 0, rel
    import pandas as pd

    pairing = pd.read_csv(out / "pairing/summary.tsv", sep="\t").set_index("name")
    assert sorted(pairing.index) == ["malg_malk", "malg_malk_context"]
    assert 0.0 <= float(pairing.loc["malg_malk", "precision"]) <= 1.0
    # the same 7 test species by MI-IPA with the 704 training species' pairs as context (the demo's strong mode)
    assert pairing.loc["malg_malk_context", "method"] == "mi-ipa"
    assert float(pairing.loc["malg_malk_context", "precision"]) >= 0.9
    report = json.loads((out / "pairing/malg_malk_context/report.json").read_text())
    assert report["routes"]["context_pairs"] == 3934 and report["method"] == "mi-ipa"
    seq = pd.read_csv(out / "sequencing/summary.tsv", sep="\t")
    assert sorted(seq["name"]) == ["KCYM", "KCYMRHWST"]
    assert [set(k) for k in seq["known"]] == [set(n) for n in seq["name"]]  # reports store the known set sorted
    assert seq["accuracy_masked"].between(0, 1).all()


def test_complexes_chain_query_to_structure_inputs(tiny_run):
    """Query sequences -> one A3M per chain with species -> pairing -> ColabFold paired A3M, offline, bundled data."""
    _, out = tiny_run
    base = out / "complexes" / "envz_ompr"
    from protlm.io import read_a3m

    chains = [read_a3m(base / f"chain{k}.a3m") for k in (1, 2)]
    assert [c.n_columns for c in chains] == [450, 239]  # EnvZ, OmpR
    assert all(1 < c.n_sequences <= 41 for c in chains)
    import json

    report = json.loads((base / "pairing" / "report.json").read_text())
    assert report["options"]["species_key"] == "os" and report["method"] == "mi-ipa"
    assert report["n_species"] >= 2 and report["data"]["n_no_key_left"] == 0  # E. coli K-12 and others by OS= name
    assert (base / "pairing" / "paired.a3m").read_text().startswith("#450,239\t")
    af3 = json.loads((base / "pairing" / "af3_input.json").read_text())
    assert len(af3["sequences"]) == 2
    assert (base / "pairing" / "boltz").is_dir() and any((base / "pairing" / "boltz").iterdir())


def test_complexes_from_inline_sequences(tmp_path):
    from protlm.io import iter_fasta

    queries = [r.sequence for r in iter_fasta(ROOT / "data/envz_ompr.fasta")]
    cfg = write_config(tmp_path / "inline.yaml", tmp_path / "out", pairing__enabled=False, sequencing__enabled=False)
    config = yaml.safe_load(cfg.read_text())
    config["complexes"]["queries"] = {"mine": {"sequences": queries, "database": "data/hk_rr_uniprot.fasta.gz",
                                               "species_key": "os"}}
    cfg.write_text(yaml.safe_dump(config))
    snakemake("--configfile", str(cfg))
    text = (tmp_path / "out/complexes/mine/chain2.a3m").read_text()
    assert text.startswith(">mine_chain2\n" + queries[1] + "\n")
    assert (tmp_path / "out/complexes/mine/pairing/pairs.tsv").stat().st_size > 0


def test_rerun_does_nothing(tiny_run):
    cfg, _ = tiny_run
    proc = snakemake("-n", "--configfile", str(cfg))
    assert "Nothing to be done" in proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["pairing_analysis.ipynb", "sequencing_analysis.ipynb"])
def test_notebook_runs(tiny_run, name, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    _, out = tiny_run
    monkeypatch.setenv("PROTLM_RESULTS", str(out))
    monkeypatch.setenv("PROTLM_ROOT", str(ROOT))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors


def test_two_runs_at_once_share_one_reference(tmp_path):
    """Two workflow runs in different output folders, started together, sharing the bundled reference and one
    protlm cache folder (so both build the same reference index at once): both finish, with the same results."""
    env = _env()
    env["PROTLM_CACHE_DIR"] = str(tmp_path / "cache")
    procs, outs = [], []
    for k in range(2):
        out = tmp_path / f"run{k}"
        cfg = write_config(tmp_path / f"c{k}.yaml", out, pairing__enabled=False, complexes__enabled=False)
        procs.append(subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", str(cfg)],
                                      cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        outs.append(out)
    logs = [p.communicate(timeout=900)[0] for p in procs]
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log[-3000:]
    tables = [sorted((o / "sequencing").rglob("*.tsv")) for o in outs]
    assert tables[0] and [t.relative_to(outs[0]) for t in tables[0]] == [t.relative_to(outs[1]) for t in tables[1]]
    import pandas as pd

    for a, b in zip(*tables):  # every table equal but for the runs' own timings
        ta, tb = (pd.read_csv(x, sep="\t") for x in (a, b))
        timing = [c for c in ta.columns if "second" in c]
        pd.testing.assert_frame_equal(ta.drop(columns=timing), tb.drop(columns=timing), obj=str(a.name))
    assert list((tmp_path / "cache").rglob("*.protlm-index.npz"))  # the shared index was built and cached
