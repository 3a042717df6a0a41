"""A pairing entry that is a complex: two A3Ms with UniRef-style ids, a taxonomy source and context, through Snakemake."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.workflow.test_workflow import ROOT, snakemake

pytestmark = pytest.mark.slow


def test_complex_entry_writes_the_structure_inputs(data, tmp_path):
    def records(name):
        return [r.split("\n", 1) for r in data(f"pairing/{name}.fasta").read_text().split(">")[1:]]

    left, right = records("malg"), records("malk")
    tax, a3m_l, a3m_r, ctx_l, ctx_r = [], [], [], [], []
    for k, ((head_l, seq_l), (_, seq_r)) in enumerate(zip(left[:14], right[:14])):
        species = head_l.split()[0].rsplit("_", 1)[1]
        a3m_l.append(f">UniRef100_L{k:05d}\t99\n{seq_l}")
        a3m_r.append(f">UniRef100_R{k:05d}\t99\n{seq_r}")
        tax += [f"UniRef100_L{k:05d}\t{species}\n", f"UniRef100_R{k:05d}\t{species}\n"]
    for (head_l, seq_l), (head_r, seq_r) in zip(left[14:114], right[14:114]):
        ctx_l.append(f">{head_l}\n{seq_l}")
        ctx_r.append(f">{head_r}\n{seq_r}")
    files = {"left.a3m": a3m_l, "right.a3m": a3m_r, "tax.tsv": tax, "ctx_l.fasta": ctx_l, "ctx_r.fasta": ctx_r}
    for name, parts in files.items():
        (tmp_path / name).write_text("".join(parts))
    config = yaml.safe_load((ROOT / "workflows/config/config.yaml").read_text())
    out = tmp_path / "out"
    config["outdir"] = str(out)
    config["pairing"].update(method="mi-ipa", threads=1, families={"cx": {
        "left": str(tmp_path / "left.a3m"), "right": str(tmp_path / "right.a3m"), "species_key": "auto",
        "taxonomy": str(tmp_path / "tax.tsv"),
        "context": {"left": str(tmp_path / "ctx_l.fasta"), "right": str(tmp_path / "ctx_r.fasta"),
                    "homology_weight": 0.5}}})
    config["sequencing"]["enabled"] = False
    config["complexes"]["enabled"] = False
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    target = out / "pairing" / "cx" / "af3_input.json"
    snakemake(str(target), "--configfile", str(tmp_path / "config.yaml"))
    base = out / "pairing" / "cx"
    assert (base / "paired.a3m").read_text().splitlines()[1].endswith(" query")
    assert (base / "boltz" / "complex.yaml").exists() and len(json.loads(target.read_text())["sequences"]) == 2
    report = json.loads((base / "report.json").read_text())
    assert report["method_info"]["homology_weight"] == 0.5
    assert report["routes"]["context_pairs"] == 100 and report["data"]["taxonomy"]["left"]["n_from_taxonomy"] == 14
