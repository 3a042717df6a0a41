"""Deep inputs end to end: `protlm pair` on ColabFold-style unpaired A3Ms of the full standard HK-RR set (issue 14, item 5).

The generator writes, under ``--work`` (default ``scratch/deep_pairing``, git-ignored; HK-RR is GPL-3.0 and
never shipped):

* ``hk.a3m`` and ``rr.a3m``: ColabFold/MMseqs2-style unpaired A3Ms.  The first row is the query (``>101`` /
  ``>102``: the first HK-RR pair), every other row is one sequence of the standard HK-RR set
  (``../shared/data/pairing/hkrr_standard.fasta``, FirstSeq and _DUMMY dropped, split at column 64) named
  with a UniRef-style id (``UniRef100_<accession>`` then tab-separated scores, as ColabFold writes them) and
  written in A3M form against the query (columns where the query has a gap are lowercase insertions);
  the RR rows are in a random order (seeded), so nothing pairs by position;
* ``uniref_taxonomy.fasta``: a UniRef-format FASTA (``>UniRef100_ACC Cluster: ... n=1 Tax=NAME TaxID=N
  RepID=ACC``) giving each row its species (one NCBI-like taxon id per HK-RR species name);
* ``truth.tsv``: ``left_id<TAB>right_id`` of the true pairs.

Then each run is ``protlm pair hk.a3m rr.a3m --taxonomy uniref_taxonomy.fasta --truth truth.tsv`` in its
own subprocess, recording wall time, peak RSS (``os.wait4``), precision and the routes (orthologs paired
directly, pairs optimised): ``mi-ipa`` and ``entropy-bootstrap`` with their defaults (target: each under
5 minutes on the 2-core machine), ``entropy-ipa`` with its defaults (no time target), ``random`` as the baseline, and ``diffpalm`` with a tiny test model (1
layer, width 32, random weights: a timing of the deep-input machinery, not a pairing result) and
``--steps 5``.  One command::

    nice python benchmarks/deep_pairing.py

writes ``benchmarks/results/deep_pairing.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _provenance import Clock, provenance, rel  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "pairing" / "hkrr_standard.fasta"
RESULTS = ROOT / "benchmarks" / "results"
TARGET_SECONDS = 300


def accession(side: str, k: int) -> str:
    """A UniProt-shaped accession, unique per side and row."""
    return f"A0A{'L' if side == 'hk' else 'R'}{k:06d}"


def generate(work: Path, *, seed: int = 0) -> dict:
    """Write the two A3Ms, the taxonomy FASTA and the truth TSV; return counts."""
    from protlm.io import read_msa
    from protlm.pairing.export import _a3m_rows

    msa = read_msa(DATA)
    if not msa.ids[0].startswith("FirstSeq") or "_DUMMY" not in msa.ids[-1]:
        raise SystemExit(f"{rel(DATA)}: expected a FirstSeq first record and a _DUMMY last record")
    msa = msa[1:-1]
    hk, rr = msa.slice_columns(0, 64), msa.slice_columns(64, None)
    species = [d.split("|")[1] for d in msa.descriptions]
    taxid = {s: 100000 + i for i, s in enumerate(dict.fromkeys(species))}
    n = msa.n_sequences
    rng = np.random.default_rng(seed)
    rr_order = rng.permutation(n)
    work.mkdir(parents=True, exist_ok=True)
    tax_lines, truth = [], []
    for side, part, order, query_id in (("hk", hk, np.arange(n), "101"), ("rr", rr, rr_order, "102")):
        query_seq, row = _a3m_rows(part, 0)
        lines = [f">{query_id}\n{query_seq}\n"]
        for k in order:
            acc = accession(side, int(k))
            lines.append(f">UniRef100_{acc}\t{200 - k % 97}\t0.{k % 9 + 1}\t1.{k % 7}E-{10 + k % 30}\n{row(int(k))}\n")
            clean = part.sequences[int(k)].replace("-", "").replace(".", "").upper()
            tax_lines.append(f">UniRef100_{acc} Cluster: {side.upper()} {acc} n=1 Tax={species[k].replace('_', ' ')} "
                             f"TaxID={taxid[species[k]]} RepID={acc}_{side.upper()}\n{clean}\n")
        (work / f"{side}.a3m").write_text("".join(lines))
    truth = [f"UniRef100_{accession('hk', k)}\tUniRef100_{accession('rr', k)}\n" for k in range(n)]
    (work / "truth.tsv").write_text("left_id\tright_id\n" + "".join(truth))
    (work / "uniref_taxonomy.fasta").write_text("".join(tax_lines))
    sizes = {}
    for s in species:
        sizes[s] = sizes.get(s, 0) + 1
    return {"n_pairs": n, "n_rows_per_a3m": n + 1, "n_species": len(sizes),
            "n_ortholog_species": sum(v == 1 for v in sizes.values()), "max_species_size": max(sizes.values()),
            "columns": [hk.n_columns, rr.n_columns]}


def tiny_model(work: Path) -> Path:
    from protlm.models.esm_msa import build_msa_transformer, save_msa_checkpoint

    model, _, args = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64, seed=0)
    return save_msa_checkpoint(model, args, work / "tiny_test_model.pt")


def run_cli(args: list, log_path: Path) -> dict:
    """``protlm pair`` in its own process: exit status, wall seconds, peak RSS (MB) from ``os.wait4``."""
    cmd = [sys.executable, "-c", "import sys; from protlm.cli import main; sys.exit(main())", *map(str, args)]
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    return {"exit_status": rc, "wall_seconds": round(wall, 1),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "command": " ".join(["protlm", *[rel(a) if isinstance(a, Path) else str(a) for a in args]])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=ROOT / "scratch" / "deep_pairing")
    parser.add_argument("--methods", default="random,mi-ipa,entropy-bootstrap,entropy-ipa,diffpalm")
    parser.add_argument("--diffpalm-steps", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS / "deep_pairing.json")
    args = parser.parse_args(argv)
    clock = Clock()
    data = generate(args.work)
    common = [args.work / "hk.a3m", args.work / "rr.a3m", "--taxonomy", args.work / "uniref_taxonomy.fasta",
              "--truth", args.work / "truth.tsv", "--overwrite", "--seed", "0"]
    runs = {}
    for method in args.methods.split(","):
        out = args.work / f"out_{method}"
        extra = ["--method", method]
        if method == "diffpalm":
            extra += ["--weights", tiny_model(args.work), "--steps", str(args.diffpalm_steps), "--device", "cpu"]
        rec = run_cli(["pair", *common, "-o", out, *extra], args.work / f"{method}.log")
        if rec["exit_status"] == 0:
            report = json.loads((out / "report.json").read_text())
            rec.update(precision=report.get("precision"), recall=report.get("recall"), n_pairs=report["n_pairs"],
                       routes=report.get("routes"), random_precision=report.get("random_precision"),
                       method_seconds=round(report["wall_seconds"], 1),
                       taxonomy=report["data"].get("taxonomy", {}).get("left"))
            if method == "diffpalm":
                info = report["method_info"]
                rec.update(n_sub_msas=info["n_sub_msas"], max_depth=info["max_depth"], steps=info["steps"],
                           note="tiny random-weights test model: timing only, its precision means nothing")
        else:
            rec["log_tail"] = (args.work / f"{method}.log").read_text()[-2000:]
        if method in ("mi-ipa", "entropy-bootstrap"):
            rec["target_met"] = rec["exit_status"] == 0 and rec["wall_seconds"] < TARGET_SECONDS
        runs[method] = rec
        print(f"{method:<18} rc {rec['exit_status']}  wall {rec['wall_seconds']:7.1f} s  cpu {rec['cpu_seconds']:7.1f} s  "
              f"peak RSS {rec['peak_rss_mb']:7.1f} MB  precision {rec.get('precision') or float('nan'):.3f}  "
              f"routes {rec.get('routes')}", flush=True)
    result = {**provenance(__file__, argv, clock), "data": {"source": rel(DATA), **data},
              "target": f"mi-ipa and entropy-bootstrap each under {TARGET_SECONDS} s wall, end to end", "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
