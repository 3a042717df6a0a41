"""Sequencing benchmark: the masked-residue predictor against the most-frequent-residue baseline.

Protocol:

* proteins: ``../shared/data/proteomes`` (E. coli K-12 proteome + 20k UniProt
  sample, CC BY 4.0), read and split exactly as ``protlm train-sequencer``
  did for the model under test; the split is recomputed and checked against
  the digests stored in the weights (:func:`protlm.sequencing.split.reproduce_split`);
* test sets: ``test`` (homology-held-out: whole k-mer clusters never trained
  on) and ``test_random`` (single proteins held out at random; relatives of
  them were trained on, as in a random split of UniRef); ``--n-proteins``
  of each, drawn with a fixed seed, as whole-protein reads;
* known sets KCYM, KCYMRHWST and KCYM+1 (each of R, H, W, S, T, and their
  mean); efficiencies 1.0 and 0.8 for KCYM, 1.0 for the others (all with
  ``--all-efficiencies``); and tryptic peptides (at least 6 residues) of the
  same proteins with KCYM at the first efficiency, predicted as
  ``protlm sequence --peptides`` does (no terminus markers);
* methods, all through the same constrained decoding: ``most-frequent``
  (residue frequencies of the training split: the most frequent allowed
  residue), ``model`` (one pass) and, for KCYM, ``model+refine2`` (two
  refinement passes);
* with ``mmseqs`` on PATH (Debian package mmseqs2): the identity of each
  test protein's best hit among the training proteins, to show what the
  split holds out;
* throughput: the whole E. coli proteome as KCYM reads, timed
  ``predict_reads`` (model loaded, reads in memory), ``--threads`` torch
  threads; with ``--throughput-baseline WEIGHTS`` another model is timed on
  the same reads in the same run (the README's row: the previous shipped model,
  ``git show 9574e99:protlm/models/weights/sequencer_default.pt > old.pt``).

One command::

    python benchmarks/sequencing.py

prints a table and writes ``benchmarks/results/sequencing.json`` and ``sequencing.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from _proteomes import ECOLI, RESULTS, load_model_split  # noqa: E402
from _provenance import Clock, provenance, rel  # noqa: E402

EXTRA = "RHWST"

log = logging.getLogger("benchmarks.sequencing")


def _metrics(ev) -> dict:
    """The fields of a benchmark entry that come from an :class:`~protlm.sequencing.evaluate.Evaluation`."""
    return {"accuracy_masked": ev.accuracy_masked, "accuracy_masked_per_read": ev.accuracy_masked_per_read,
            "accuracy_all": ev.accuracy_all, "top3_accuracy_masked": ev.top3_accuracy_masked,
            "log_loss_masked": ev.log_loss_masked, "n_masked": ev.n_masked, "n_reads": ev.n_reads,
            "expected_calibration_error": ev.expected_calibration_error()}


def _known_sets():
    return [("KCYM", "KCYM"), ("KCYMRHWST", "KCYMRHWST")] + [("KCYM+1", "KCYM" + a) for a in EXTRA]


def _mmseqs_identity(query, target, workdir, threads):
    """Best-hit identity of each query among the targets (0 when no hit), or None without mmseqs."""
    exe = shutil.which("mmseqs")
    if exe is None:
        return None
    from protlm.io import FastaRecord, write_fasta

    q, t, out = workdir / "q.fasta", workdir / "t.fasta", workdir / "hits.m8"
    write_fasta([FastaRecord(f"q{i}", f"q{i}", s) for i, s in enumerate(query)], q)
    write_fasta([FastaRecord(f"t{i}", f"t{i}", s) for i, s in enumerate(target)], t)
    subprocess.run([exe, "easy-search", str(q), str(t), str(out), str(workdir / "tmp"), "--threads", str(threads),
                    "-e", "1e-3", "--format-output", "query,target,fident,alnlen,qlen", "-v", "1"],
                   check=True, stdout=subprocess.DEVNULL)
    best = np.zeros(len(query))
    for line in out.read_text().splitlines():
        qid, _, fident, alnlen, qlen = line.split("\t")
        i = int(qid[1:])
        # identity over the query's length, so a short local hit does not count as a near-duplicate
        best[i] = max(best[i], float(fident) * int(alnlen) / int(qlen))
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="weights (default: the shipped model)")
    ap.add_argument("--n-proteins", type=int, default=300, help="test proteins per split")
    ap.add_argument("--efficiencies", default="1.0,0.8")
    ap.add_argument("--all-efficiencies", action="store_true",
                    help="every efficiency for every known set (default: the others only for KCYM)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument("--throughput-baseline", default=None, metavar="WEIGHTS",
                    help="also time these weights on the same reads, in the same run (e.g. an earlier shipped model)")
    ap.add_argument("--out", default=str(RESULTS / "sequencing.json"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")

    import torch

    from protlm.models.sequencer import resolve_sequencer_weights
    from protlm.sequencing.backends import FrequencyBackend, ModelBackend, residue_frequencies
    from protlm.sequencing.evaluate import evaluate_prediction
    from protlm.sequencing.predictor import predict_reads
    from protlm.sequencing.proteins import load_proteins
    from protlm.sequencing.simulate import simulate_reads

    torch.set_num_threads(args.threads)
    clock = Clock()
    weights = resolve_sequencer_weights(args.model)
    backend = ModelBackend.from_weights(weights, device="cpu")
    meta = backend.metadata
    ids, seqs, split = load_model_split(meta)
    log.info("split reproduced and verified: %r", split)
    train_seqs = [seqs[i] for i in split.indices("train")]
    baseline = FrequencyBackend(residue_frequencies(train_seqs))
    rng = np.random.default_rng(args.seed)
    tests = {}
    for name in ("test", "test_random"):
        idx = split.indices(name)
        pick = np.sort(rng.choice(idx, size=min(args.n_proteins, len(idx)), replace=False))
        tests[name] = [(ids[i], seqs[i]) for i in pick]

    leakage = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, recs in tests.items():
            best = _mmseqs_identity([s for _, s in recs], train_seqs, Path(tmp) / name, args.threads)
            if best is None:
                leakage = {"mmseqs": "not found on PATH; skipped"}
                break
            leakage[name] = {
                "median_best_identity_to_train": float(np.median(best)),
                "fraction_with_hit_ge_0.5": float((best >= 0.5).mean()),
                "fraction_with_hit_ge_0.9": float((best >= 0.9).mean()),
                "fraction_with_any_hit_e1e-3": float((best > 0).mean()),
            }
            log.info("%s vs train (mmseqs, identity over query length): %s", name, leakage[name])

    effs = [float(e) for e in args.efficiencies.split(",")]
    entries = []
    for split_name, recs in tests.items():
        for label, known in _known_sets():
            for eff in (effs if known == "KCYM" or args.all_efficiencies else effs[:1]):
                sim = simulate_reads(recs, known=known, efficiency=eff, seed=args.seed)
                truth = dict(zip((r.id for r in sim.reads), sim.truths))
                methods = [("most-frequent", baseline, 0), ("model", backend, 0)]
                if known == "KCYM":
                    methods.append(("model+refine2", backend, 2))
                for method, be, refine in methods:
                    t0 = time.perf_counter()
                    pred = predict_reads(sim.reads, known=known, backend=be, efficiency=eff, refine=refine)
                    ev = evaluate_prediction(pred, truth)
                    entries.append({"split": split_name, "known_set": label, "known": known, "efficiency": eff,
                                    "reads": "protein", "method": method, **_metrics(ev),
                                    "seconds": round(time.perf_counter() - t0, 2)})
                    log.info("%s %s e=%g %s: masked accuracy %.4f", split_name, known, eff, method, ev.accuracy_masked)

    # tryptic peptides (KCYM, first efficiency): reads whose ends are not their proteins' termini
    for split_name, recs in tests.items():
        sim = simulate_reads(recs, known="KCYM", efficiency=effs[0], seed=args.seed, fragment="tryptic", min_length=6)
        truth = dict(zip((r.id for r in sim.reads), sim.truths))
        for method, be in (("most-frequent", baseline), ("model", backend)):
            pred = predict_reads(sim.reads, known="KCYM", backend=be, efficiency=effs[0], termini=False)
            ev = evaluate_prediction(pred, truth)
            entries.append({"split": split_name, "known_set": "KCYM", "known": "KCYM", "efficiency": effs[0],
                            "reads": "tryptic", "method": method, **_metrics(ev)})
            log.info("%s KCYM tryptic %s: masked accuracy %.4f", split_name, method, ev.accuracy_masked)

    # KCYM+1: the mean over the five extra letters, as its own rows
    for split_name in tests:
        for eff in effs:
            for method in ("most-frequent", "model"):
                if eff != effs[0] and not args.all_efficiencies:
                    continue
                rows = [e for e in entries if e["split"] == split_name and e["known_set"] == "KCYM+1"
                        and e["efficiency"] == eff and e["method"] == method]
                n = sum(r["n_masked"] for r in rows)
                entries.append({"split": split_name, "known_set": "KCYM+1", "known": "KCYM+{" + EXTRA + "} mean",
                                "efficiency": eff, "reads": "protein", "method": method,
                                **{key: sum(r[key] * r["n_masked"] for r in rows) / n
                                   for key in ("accuracy_masked", "top3_accuracy_masked", "log_loss_masked")},
                                "n_masked": n})

    throughput = None
    if not args.no_throughput:
        recs = [(i, s) for i, s in zip(*load_proteins([ECOLI], min_length=1)[:2])]
        sim = simulate_reads(recs, known="KCYM", min_length=1)
        n_res = sum(len(r) for r in sim.reads)
        def timed(be):
            t0 = time.perf_counter()
            cpu0 = time.process_time()
            pred = predict_reads(sim.reads, known="KCYM", backend=be)
            return time.perf_counter() - t0, time.process_time() - cpu0, pred.info["windows"]

        load_before = os.getloadavg()[0]
        seconds, cpu_seconds, windows = timed(backend)
        throughput = {"reads": len(sim.reads), "residues": n_res, "seconds": round(seconds, 2),
                      "residues_per_second": round(n_res / seconds), "threads": args.threads,
                      "process_cpu_seconds": round(cpu_seconds, 2), "windows": windows,
                      "load_average_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                      "target_seconds": 60, "met": seconds < 60}
        log.info("throughput: %d residues in %.1f s", n_res, seconds)
        if args.throughput_baseline:
            other = ModelBackend.from_weights(args.throughput_baseline, device="cpu")
            b_seconds, b_cpu, b_windows = timed(other)
            throughput["baseline"] = {"weights": rel(args.throughput_baseline),
                                      "model": other.model.config, "seconds": round(b_seconds, 2),
                                      "process_cpu_seconds": round(b_cpu, 2), "windows": b_windows,
                                      "ratio_model_over_baseline": round(seconds / b_seconds, 3)}
            log.info("throughput baseline %s: %.1f s", args.throughput_baseline, b_seconds)

    def acc(split_name, known, eff, method, key="accuracy_masked", reads="protein"):
        for e in entries:
            if (e["split"], e["known"], e["efficiency"], e["method"], e["reads"]) == (split_name, known, eff, method,
                                                                                      reads):
                return e[key]
        return float("nan")

    base = acc("test", "KCYM", 1.0, "most-frequent")
    model = acc("test", "KCYM", 1.0, "model")
    targets = {"homology_kcym_e1_ratio_model_over_most_frequent": model / base, "target_ratio": 1.5,
               "met": model / base >= 1.5}
    if throughput:
        targets["ecoli_proteome_seconds"] = throughput["seconds"]
        targets["ecoli_target_seconds"] = 60
    result = {
        **provenance(__file__, argv, clock, torch_threads=args.threads),
        "model": {"path": rel(weights), **{k: meta.get(k) for k in ("step", "valid_loss", "valid_accuracy_kcym")}},
        "model_training": meta.get("stages") or meta.get("training_config"),
        "split": {k: v for k, v in meta["split"].items() if k != "digests"},
        "n_proteins_per_split": args.n_proteins,
        "leakage_check": leakage,
        "entries": entries,
        "throughput": throughput,
        "targets": targets,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")

    lines = ["| split | known set | e | most-frequent | model | model+refine2 | model / baseline "
             "| top-3: most-frequent / model | log loss (nats): most-frequent / model |",
             "|---|---|---|---|---|---|---|---|---|"]
    for split_name in tests:
        for label, known, reads in [("KCYM", "KCYM", "protein"), ("KCYMRHWST", "KCYMRHWST", "protein"),
                                    ("KCYM+1 (mean of R,H,W,S,T)", "KCYM+{" + EXTRA + "} mean", "protein"),
                                    ("KCYM, tryptic peptides", "KCYM", "tryptic")]:
            for eff in (effs if (known == "KCYM" and reads == "protein") or args.all_efficiencies else effs[:1]):
                b, m, r = (acc(split_name, known, eff, x, reads=reads) for x in ("most-frequent", "model", "model+refine2"))
                rs = f"{r:.3f}" if r == r else "-"
                t3 = [acc(split_name, known, eff, x, "top3_accuracy_masked", reads) for x in ("most-frequent", "model")]
                ll = [acc(split_name, known, eff, x, "log_loss_masked", reads) for x in ("most-frequent", "model")]
                lines.append(f"| {split_name} | {label} | {eff:g} | {b:.3f} | {m:.3f} | {rs} | {m / b:.2f}x "
                             f"| {t3[0]:.3f} / {t3[1]:.3f} | {ll[0]:.3f} / {ll[1]:.3f} |")
    table = "\n".join(lines)
    (out.with_suffix(".md")).write_text(table + "\n")
    print(table)
    if throughput:
        print(f"\nthroughput: E. coli proteome, {throughput['residues']:,} residues as KCYM reads, "
              f"{throughput['seconds']} s ({throughput['residues_per_second']:,} residues/s, {args.threads} threads)")
        if "baseline" in throughput:
            b = throughput["baseline"]
            print(f"  baseline {b['weights']}: {b['seconds']} s (model / baseline time {b['ratio_model_over_baseline']:.2f}x)")
    print(f"target homology KCYM e=1 model >= 1.5x baseline: {targets['homology_kcym_e1_ratio_model_over_most_frequent']:.2f}x "
          f"({'met' if targets['met'] else 'NOT met'})")
    if leakage:
        print("leakage check (mmseqs best hit in training, identity over query length):", json.dumps(leakage))


if __name__ == "__main__":
    main()
