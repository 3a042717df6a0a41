"""HK-RR 575 benchmark: protlm's weights-free pairing methods against DiffPaSS, in one invocation (issues 9, 13).

Protocol: ``../shared/data/pairing/hkrr_standard_575.fasta`` (PyMI-IPA's subset of
the standard HK-RR set), FirstSeq and _DUMMY records dropped, species with a
single pair dropped (573 pairs in 42 species), RR rows shuffled within species
with ``--seed``.  On that same shuffled input, in the same process:

* ``random``    within-species random pairing (expected precision = species / sequences);
* ``mi-ipa``    protlm's MI-IPA (Bitbol 2018), default settings;
* ``protlm-entropy``  protlm's entropy bootstrap (``protlm.pairing.entropy_bootstrap``),
  default settings; ``protlm-entropy-x3``: 3 restarts, lowest entropy kept;
  ``protlm-entropy-all-x3``: the same with every fixed-set size (572 iterations, like
  DiffPaSS's bootstrap) instead of 200;
* ``entropy-ipa``  protlm's entropy IPA (``protlm.pairing.entropy_ipa``), default
  settings: seven runs (seeds ``--seed`` to ``--seed`` + 6), each the 3-restart entropy
  bootstrap then re-pairing sweeps on coevolution + phylogeny scores from the other
  species, their votes then refined by the annealed soft re-pairing
  (``protlm.pairing.soft_refine``, coevolution from the 300 column pairs of highest
  mutual information); the in-run baselines are ``entropy-ipa-previous``: five runs,
  refined with every column pair (the default before the column-pair selection),
  ``entropy-ipa-votes``: the seven runs combined per species by a Hungarian matching of
  their votes, no refinement (the default before the refinement), and
  ``entropy-ipa-x1``: one run, no refinement (the default before the runs were combined).
  For ``entropy-ipa`` the entry also holds ``score_diagnostic``: the refinement's scores
  learnt from the *true* pairs of the other species (one step), the precision of one
  Hungarian re-pairing from them with every column pair (the scores' ceiling), and the
  summed scores of the true and of the found pairing (``objective_*``, default settings:
  higher is what the refinement seeks);
* ``diffpass``  DiffPaSS (``diffpass`` package, optional extra): its
  two-body-entropy ``InformationPairing`` bootstrap with default settings,
  pairing of lowest hard loss.

Per method: precision (correct pairs / left sequences with a true partner) and
recall (``PairingResult.precision`` / ``.recall``), wall seconds and CPU
seconds of this process (all its threads), the device, and **precision by
confidence decile**: the method's pairs sorted by their single-run
``confidence`` (ties in a random order seeded by ``--seed``) and cut into ten
groups of equal size, lowest first.  Methods with several runs (the ``-x3``
variants) also get precision by ``agreement`` (fraction of the 3 restarts
holding the pair).

Honesty rules for ``benchmarks/results/hkrr_575.json``:

* it records the git commit, a digest of the code that computed the values
  (every protlm module this process loaded, both benchmark scripts, and the
  versions of Python, NumPy, SciPy, torch and diffpass) and the data file's
  SHA-256; paths are relative to the repository;
* it is written only when those code files match the recorded commit (no
  uncommitted change; ``--allow-dirty`` writes anyway and lists the files);
* per-method values are cached under ``scratch/benchmark_cache`` (git-ignored)
  keyed by that digest and commit, so a cache entry is only ever reused by the
  same code at the same commit (to resume an interrupted run); each method says
  whether it was computed in this invocation; ``--fresh`` computes everything.

Targets: protlm's best weights-free method reaches at least DiffPaSS's
precision in at most a quarter of its wall time (issue 9), and a precision of
at least 0.75 (issue 14, ``target["precision_0.75_met"]``).

One command::

    python benchmarks/hkrr_575.py --fresh

prints the tables and writes ``benchmarks/results/hkrr_575.json``.  The fast subset that checks a
refactoring left the numbers unchanged (issue 15: before/after) writes
``benchmarks/results/hkrr_575_fast.json``::

    python benchmarks/hkrr_575.py --methods random,mi-ipa,protlm-entropy --fresh --out benchmarks/results/hkrr_575_fast.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _hkrr import DATA, ROOT, load_hkrr  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CACHE = ROOT / "scratch" / "benchmark_cache"  # git-ignored
FILE = "hkrr_standard_575.fasta"
DEFAULT_METHODS = ("random", "mi-ipa", "protlm-entropy", "protlm-entropy-x3", "protlm-entropy-all-x3", "entropy-ipa-x1",
                   "entropy-ipa-votes", "entropy-ipa-previous", "entropy-ipa", "diffpass")
WEIGHTS_FREE_PROTLM = ("mi-ipa", "entropy-ipa-x1", "entropy-ipa-votes", "entropy-ipa-previous", "entropy-ipa")
#: Issue 14: protlm's best weights-free method without context.
TARGET_PRECISION = 0.75
N_BINS = 10


def _import_methods(methods) -> None:
    """Import every module the methods use, so that the code digest covers them before anything runs."""
    import protlm.pairing.entropy_bootstrap  # noqa: F401
    import protlm.pairing.entropy_ipa  # noqa: F401
    import protlm.pairing.mi_ipa  # noqa: F401
    import protlm.pairing.random_pairing  # noqa: F401
    import protlm.report  # noqa: F401  (writes the JSON)

    if "diffpass" in methods:
        import protlm.pairing.diffpass

        protlm.pairing.diffpass._import_diffpass()


def code_files() -> list:
    """Repository files of the code that computes the values: loaded protlm modules and the benchmark scripts."""
    files = {Path(__file__).resolve(), Path(__file__).resolve().parent / "_hkrr.py"}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and (module.__name__ == "protlm" or module.__name__.startswith("protlm.")):
            files.add(Path(path).resolve())
    return sorted(os.path.relpath(f, ROOT) for f in files)


def code_digest(files) -> str:
    from importlib import metadata

    h = hashlib.sha256()
    for rel in files:
        h.update(rel.encode() + b"\0" + (ROOT / rel).read_bytes() + b"\0")
    for name in ("numpy", "scipy", "torch", "diffpass"):
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        h.update(f"{name}=={version}\0".encode())
    h.update(platform.python_version().encode())
    return h.hexdigest()


def git_state(files) -> tuple:
    """(commit, files among ``files`` that differ from it or are untracked)."""
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout

    commit = git("rev-parse", "HEAD").strip()
    dirty = sorted({line[3:] for line in git("status", "--porcelain", "--", *files).splitlines()})
    return commit, dirty


def run(method: str, paired, *, seed: int):
    """(result, wall seconds, CPU seconds of this process) of one method on the shuffled families."""
    t0, c0 = time.perf_counter(), time.process_time()
    if method == "random":
        from protlm.pairing.random_pairing import pair_random

        result = pair_random(paired, seed=seed)
    elif method == "mi-ipa":
        from protlm.pairing.mi_ipa import pair_mi_ipa

        result = pair_mi_ipa(paired, seed=seed)
    elif method.startswith("protlm-entropy"):
        from protlm.pairing.entropy_bootstrap import pair_entropy_bootstrap

        restarts = int(method.rsplit("-x", 1)[1]) if "-x" in method else 1
        iterations = paired.left.n_sequences if "-all" in method else None  # every fixed-set size
        result = pair_entropy_bootstrap(paired, seed=seed, n_restarts=restarts, n_iterations=iterations)
    elif method.startswith("entropy-ipa"):
        from protlm.pairing.entropy_ipa import pair_entropy_ipa

        # entropy-ipa: the default (DEFAULT_RUNS runs, their votes refined); -votes: the same runs' vote
        # consensus (the default before the refinement); -x1: one run, unrefined (the default before that)
        if method == "entropy-ipa":
            result = pair_entropy_ipa(paired, seed=seed)
        elif method == "entropy-ipa-previous":  # five runs, every column pair
            result = pair_entropy_ipa(paired, seed=seed, n_runs=5, top_column_pairs=0)
        else:
            result = pair_entropy_ipa(paired, seed=seed, n_runs=1 if method == "entropy-ipa-x1" else None,
                                      n_soft_steps=0)
    elif method == "diffpass":
        from protlm.pairing.diffpass import pair_diffpass

        result = pair_diffpass(paired, seed=seed, device="cpu")
    else:
        raise SystemExit(f"unknown method {method!r}; choose from {DEFAULT_METHODS}")
    return result, time.perf_counter() - t0, time.process_time() - c0


def score_diagnostic(paired, found) -> dict:
    """The refinement's scores given the true pairs of the other species: the scores' ceiling, and whether they
    prefer the truth to the found pairing (``found``: ``{left row: right row}``)."""
    from scipy.optimize import linear_sum_assignment

    from protlm.pairing import entropy_ipa
    from protlm.pairing.assignment import free_rows
    from protlm.pairing.homology import similarity_kernel
    from protlm.pairing.soft_refine import soft_refine, vote_start

    inp = entropy_ipa._inputs(paired, None, None)
    beta = entropy_ipa.DEFAULT_HOMOLOGY_BETA
    kernels = (similarity_kernel(inp.left, inp.left, beta=beta), similarity_kernel(inp.right, inp.right, beta=beta))
    free = free_rows(inp.blocks, inp.fixed)
    truth = {int(l): int(r) for l, r in paired.truth.items()}

    def scores(pairs, **kw):  # one step from the pairing itself (a one-hot start)
        return soft_refine(inp.left, inp.right, free, inp.fixed, vote_start(free, [pairs], floor=1e-9),
                           species_of_left=inp.species_of, kernels=kernels, n_steps=1, **kw)

    def objective(pairs):
        total = 0.0
        for (_, fl, fr), sc in zip(free, scores(pairs)):
            col = {int(r): j for j, r in enumerate(fr.tolist())}
            total += sum(float(sc[i, col[pairs[l]]]) for i, l in enumerate(fl.tolist()) if pairs.get(l) in col)
        return total

    ceiling = dict(inp.fixed)
    for (_, fl, fr), sc in zip(free, scores(truth, top_column_pairs=None)):
        rows, cols = linear_sum_assignment(sc, maximize=True)
        ceiling.update({int(fl[i]): int(fr[j]) for i, j in zip(rows, cols)})
    found = {int(l): int(r) for l, r in found.items()}
    return {"ceiling_precision_all_column_pairs": sum(ceiling.get(l) == r for l, r in truth.items()) / len(truth),
            "objective_truth": objective(truth), "objective_found": objective(found)}


def precision_by_bins(values, correct, *, seed: int, n_bins: int = N_BINS) -> list:
    """Precision of the pairs cut into ``n_bins`` equal groups by ``values`` (lowest first; ties in seeded random order).

    Examples
    --------
    >>> bins = precision_by_bins(np.arange(10.0), np.arange(10) >= 5, seed=0, n_bins=2)
    >>> [(b["n"], b["precision"], b["confidence_min"]) for b in bins]
    [(5, 0.0, 0.0), (5, 1.0, 5.0)]
    """
    values, correct = np.asarray(values, dtype=float), np.asarray(correct, dtype=bool)
    shuffle = np.random.default_rng(seed).permutation(len(values))
    order = shuffle[np.argsort(values[shuffle], kind="stable")]
    return [{"bin": k + 1, "n": int(len(idx)), "confidence_min": float(values[idx].min()),
             "confidence_max": float(values[idx].max()), "precision": float(correct[idx].mean())}
            for k, idx in enumerate(np.array_split(order, n_bins)) if len(idx)]


def precision_by_level(values, correct) -> list:
    """Precision of the pairs grouped by each distinct value (for agreement: 0, 1/3, 2/3, 1 of 3 restarts)."""
    values, correct = np.asarray(values, dtype=float), np.asarray(correct, dtype=bool)
    return [{"agreement": float(v), "n": int((values == v).sum()), "precision": float(correct[values == v].mean())}
            for v in np.unique(values)]


def summarise(result, seconds, cpu_seconds, truth, *, seed: int) -> dict:
    mapping = result.mapping()
    paired = (result.left_rows >= 0) & (result.right_rows >= 0)
    scored = paired & np.isin(result.left_rows, list(truth))
    correct = np.array([truth[int(l)] == mapping[int(l)] for l in result.left_rows[scored]])
    entry = {"precision": result.precision(truth), "recall": result.recall(truth),
             "n_correct": result.n_correct(truth), "n_pairs": result.n_pairs,
             "n_unpaired": len(result) - result.n_pairs, "seconds": round(seconds, 2),
             "cpu_seconds": round(cpu_seconds, 2), "device": result.device,
             "load_average": round(os.getloadavg()[0], 2),
             "confidence_deciles": precision_by_bins(result.confidence[scored], correct, seed=seed)}
    agreement = result.agreement[scored]
    if not np.isnan(agreement).all():
        entry["agreement_levels"] = precision_by_level(agreement, correct)
    if result.method == "diffpass":
        robust = result.confidence[scored] >= 1.0
        entry["robust_fraction"] = float(robust.mean())
        entry["robust_precision"] = float(correct[robust].mean()) if robust.any() else None
    return entry


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="shuffle seed and seed of every method (default 0)")
    ap.add_argument("--methods", default=",".join(DEFAULT_METHODS), help="comma-separated methods")
    ap.add_argument("--threads", type=int, default=2, help="torch / BLAS threads (default 2)")
    ap.add_argument("--fresh", action="store_true", help="compute every method in this invocation (no cache)")
    ap.add_argument("--allow-dirty", action="store_true",
                    help="write the JSON although code files differ from the commit (they are listed in it)")
    ap.add_argument("--data", default=str(DATA), help="folder holding the HK-RR files (default ../shared/data/pairing)")
    ap.add_argument("--out", default=str(RESULTS / "hkrr_575.json"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import torch

    torch.set_num_threads(args.threads)
    methods = args.methods.split(",")
    unknown = sorted(set(methods) - set(DEFAULT_METHODS))
    if unknown:
        raise SystemExit(f"unknown method(s) {unknown}; choose from {', '.join(DEFAULT_METHODS)}")
    paired = load_hkrr(FILE, seed=args.seed, data_dir=args.data)
    _import_methods(methods)
    files = code_files()
    digest = code_digest(files)
    commit, dirty = git_state(files)
    if dirty and not args.allow_dirty:
        raise SystemExit(f"code differs from commit {commit[:12]} in {', '.join(dirty)}: commit it first "
                         "(or --allow-dirty, recorded in the JSON)")
    data_file = Path(args.data) / FILE
    n_seq, n_species = paired.left.n_sequences, len(paired.blocks)
    CACHE.mkdir(parents=True, exist_ok=True)
    entries = {}
    for method in methods:
        cache = CACHE / f"hkrr_575_{method}_seed{args.seed}_{digest[:16]}.json"
        if cache.exists() and not args.fresh and not dirty:
            cached = json.loads(cache.read_text())
            if cached.get("digest") == digest and cached.get("commit") == commit:
                entries[method] = dict(cached["entry"], computed=f"resumed from this code's cache ({cached['finished']})")
                logging.info("%s: resumed %s", method, entries[method])
                continue
        result, seconds, cpu = run(method, paired, seed=args.seed)
        entries[method] = dict(summarise(result, seconds, cpu, paired.truth, seed=args.seed),
                               computed="in this invocation")
        if method == "entropy-ipa":
            entries[method]["score_diagnostic"] = score_diagnostic(paired, result.mapping())
        finished = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        cache.write_text(json.dumps({"digest": digest, "commit": commit, "finished": finished,
                                     "entry": entries[method]}))
        logging.info("%s: %s", method, {k: v for k, v in entries[method].items() if k != "confidence_deciles"})

    report = {
        "dataset": FILE,
        "data": os.path.relpath(data_file.resolve(), ROOT),
        "data_sha256": hashlib.sha256(data_file.read_bytes()).hexdigest(),
        "protocol": "FirstSeq and _DUMMY dropped, species with one pair dropped, RR rows shuffled within species",
        "n_pairs": n_seq,
        "n_species": n_species,
        "random_expectation": n_species / n_seq,
        "seed": args.seed,
        "metrics": {
            "precision": "correct pairs / left sequences with a true partner (unpaired true pairs count as wrong)",
            "recall": "correct pairs / true pairs",
            "seconds": "wall seconds of the method's call", "cpu_seconds": "CPU seconds of this process (all threads)",
            "confidence_deciles": "pairs sorted by single-run confidence (ties in random order, seed = --seed), "
                                  "ten equal groups, lowest first; precision in each",
            "agreement_levels": "precision of the pairs held by 0, 1, 2 or 3 of the 3 restarts' pairings",
        },
        "methods": entries,
        "all_computed_in_this_invocation": all(e["computed"] == "in this invocation" for e in entries.values()),
        "git_commit": commit,
        "code_digest": digest,
        "code_files": files,
        "dirty_files": dirty,
        "command": "python benchmarks/hkrr_575.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "threads": args.threads, "platform": platform.platform(),
                    "load_average_at_end": os.getloadavg()},
    }
    if "diffpass" in entries:
        dp = entries["diffpass"]
        candidates = {m: e for m, e in entries.items() if m in WEIGHTS_FREE_PROTLM or m.startswith("protlm-")}
        if candidates:
            best = max(candidates, key=lambda m: candidates[m]["precision"])
            e = candidates[best]
            # issue 9: some protlm weights-free method at >= DiffPaSS's precision in <= 1/4 of its wall time
            met_by = [m for m, c in candidates.items()
                      if c["precision"] >= dp["precision"] and c["seconds"] <= dp["seconds"] / 4]
            report["target"] = {
                "best_protlm_weights_free": best,
                "precision_ratio_vs_diffpass": e["precision"] / dp["precision"],
                "time_ratio_vs_diffpass": e["seconds"] / dp["seconds"],
                "cpu_time_ratio_vs_diffpass": e["cpu_seconds"] / dp["cpu_seconds"],
                "met": bool(met_by),
                "met_by": met_by,
                "best_precision": e["precision"],
                "precision_0.75_met": bool(e["precision"] >= TARGET_PRECISION),
            }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from protlm.report import write_json

    write_json(out, report)

    print(f"HK-RR 575 set: {n_seq} pairs in {n_species} species, shuffle seed {args.seed}, commit {commit[:12]}"
          + (f" (dirty: {', '.join(dirty)})" if dirty else ""))
    print(f"{'method':<22}{'precision':>10}{'recall':>8}{'wall s':>10}{'CPU s':>10}  device  computed")
    for m, e in entries.items():
        extra = ""
        if e.get("robust_fraction") is not None and e.get("robust_precision") is not None:
            extra = f"  robust {e['robust_fraction']:.1%} at precision {e['robust_precision']:.3f}"
        print(f"{m:<22}{e['precision']:>10.3f}{e['recall']:>8.3f}{e['seconds']:>10.1f}{e['cpu_seconds']:>10.1f}"
              f"  {e['device']:<6}  {e['computed']}{extra}")
    print("precision by confidence decile (lowest confidence first):")
    print(f"{'method':<22}" + "".join(f"{'D' + str(k):>6}" for k in range(1, N_BINS + 1)))
    for m, e in entries.items():
        print(f"{m:<22}" + "".join(f"{b['precision']:>6.2f}" for b in e["confidence_deciles"]))
    for m, e in entries.items():
        if "agreement_levels" in e:
            levels = ", ".join(f"{lv['agreement']:.2f}: {lv['precision']:.2f} (n={lv['n']})" for lv in e["agreement_levels"])
            print(f"{m} precision by agreement: {levels}")
    diag = entries.get("entropy-ipa", {}).get("score_diagnostic")
    if diag:
        print(f"entropy-ipa scores from the true pairs of the other species: one re-pairing reaches "
              f"{diag['ceiling_precision_all_column_pairs']:.3f}; summed scores of the truth "
              f"{diag['objective_truth']:.1f}, of the pairing found {diag['objective_found']:.1f}")
    if "target" in report:
        t = report["target"]
        print(f"target: {t['best_protlm_weights_free']} precision x{t['precision_ratio_vs_diffpass']:.2f}, "
              f"wall time x{t['time_ratio_vs_diffpass']:.3f}, CPU time x{t['cpu_time_ratio_vs_diffpass']:.3f} of "
              f"DiffPaSS; >= DiffPaSS's precision in <= 1/4 of its time: "
              f"{'met by ' + ', '.join(t['met_by']) if t['met'] else 'missed'}; precision {t['best_precision']:.3f} vs "
              f"{TARGET_PRECISION} -> {'met' if t['precision_0.75_met'] else 'missed'}")
    print(f"wrote {os.path.relpath(out.resolve(), ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
