"""k DiffPALM sub-MSAs of the same shape: one batched forward pass per iteration against one sub-MSA at a time.

Issue 20, item 4.  ``pair_diffpalm`` optimises the (run, sub-MSA) problems of
equal depth in lockstep (:func:`protlm.pairing.diffpalm_solver.optimize_permutations_batch`);
the baseline, measured in the same invocation, is the same k problems solved
one after another (``max_batch=1``).  Each variant runs in its own subprocess
(its peak RSS is its own, or on CUDA ``torch.cuda.max_memory_allocated``),
the two alternating over ``--repeats`` rounds: a 1-step warm-up solve, then a timed solve of ``--steps`` steps (``steps + 1``
iterations, the last one only evaluates).  Reported: seconds per iteration of
all k problems, its ratio to one at a time, and whether the batched traces
equal the sequential ones (every iteration's hard assignment; the largest
relative loss difference), all in fp32 so that the comparison is exact
arithmetic, not bf16 rounding.

Model: a small/medium random MSA Transformer (``--layers 4 --embed-dim 256``,
8 heads, FFN 1024) by default; problems of ``--rows`` x ``--columns`` with
HK-RR-like species blocks (default 16 x 129: two species of 8), k = 1, 4, 8.

CPU (the committed run)::

    python benchmarks/diffpalm_batch.py --threads 2

writes ``benchmarks/results/diffpalm_batch.json`` and prints a table.
``--tiny`` checks the script in seconds (writes nothing unless ``--out``).
``benchmarks/diffpalm_step.py --gpu`` calls :func:`measure` on CUDA with the
full ESM-MSA-1b architecture.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _provenance import Clock, provenance  # noqa: E402
from diffpalm_step import _problem, write_report  # noqa: E402

MEDIUM = {"layers": 4, "embed_dim": 256, "heads": 8, "ffn_dim": 1024}
TINY = {"layers": 1, "embed_dim": 32, "heads": 4, "ffn_dim": 64}


def child(mode: str, k: int, *, size: dict, rows: int, columns: int, steps: int, threads: int, device: str,
          precision: str = "fp32") -> dict:
    """Solve k problems ``mode`` = ``"batched"`` (one lockstep batch) or ``"sequential"``; the measurements."""
    import hashlib

    import numpy as np
    import torch

    from protlm.models.device import resolve_device
    from protlm.models.esm_msa import build_msa_transformer, freeze
    from protlm.pairing.diffpalm_solver import optimize_permutations_batch
    from protlm.pairing.draws import TorchDraws

    torch.set_num_threads(threads)
    dev = resolve_device(device)
    model, alphabet, _ = build_msa_transformer(**size, seed=0)
    model = freeze(model).to(dev)
    problems = [_problem(rows, columns, alphabet, dev, seed=b)[0] for b in range(k)]
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    def solve(n_steps):
        if mode == "batched":
            return optimize_permutations_batch(model, problems, steps=n_steps, precision=precision,
                                               draws=[TorchDraws(b) for b in range(k)])
        return [optimize_permutations_batch(model, [p], steps=n_steps, precision=precision, draws=[TorchDraws(b)])[0]
                for b, p in enumerate(problems)]

    solve(1)  # warm-up: allocator, kernels
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    sync()
    t0 = time.perf_counter()
    traces = solve(steps)
    sync()
    seconds = time.perf_counter() - t0
    peak = (torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {
        "mode": mode, "k": k, "seconds_per_iteration": seconds / (steps + 1), "seconds": seconds,
        "peak_memory_mb": peak, "memory_kind": "cuda_max_allocated" if dev.type == "cuda" else "peak_rss",
        "losses": [t.losses for t in traces],
        "perms_sha256": [hashlib.sha256(np.ascontiguousarray(t.perms).tobytes()).hexdigest()[:16] for t in traces],
        "precision": precision, "device": str(dev),
    }


def _compare(batched: dict, sequential: dict) -> dict:
    """Whether the batched traces are the sequential ones: hard assignments, largest relative loss difference."""
    rel = max(abs(a - b) / max(abs(b), 1e-30)
              for la, lb in zip(batched["losses"], sequential["losses"]) for a, b in zip(la, lb))
    return {"same_hard_assignments": batched["perms_sha256"] == sequential["perms_sha256"],
            "max_relative_loss_difference": rel}


def measure(k_values, *, size: dict, rows: int, columns: int, steps: int, threads: int, device: str,
            repeats: int = 1, in_process: bool = False, tiny: bool = False, echo=print) -> list:
    """Rows of the table: for each k, sequential then batched (k = 1: one variant, the per-problem baseline).

    The two modes alternate over ``repeats`` rounds (sequential first in even
    rounds, batched first in odd ones) so that load on a shared machine hits
    them alike; a row holds the medians and every round's numbers.
    """
    import statistics

    rows_out = []
    for k in k_values:
        modes = ("sequential",) if k == 1 else ("sequential", "batched")
        runs = {mode: [] for mode in modes}
        for rep in range(repeats):
            for mode in (modes if rep % 2 == 0 else modes[::-1]):
                kw = dict(size=size, rows=rows, columns=columns, steps=steps, threads=threads, device=device)
                if in_process:
                    res = child(mode, k, **kw)
                else:
                    cmd = [sys.executable, __file__, "--child", f"{mode}:{k}", "--steps", str(steps), "--threads",
                           str(threads), "--rows", str(rows), "--columns", str(columns), "--device", device,
                           "--layers", str(size["layers"]), "--embed-dim", str(size["embed_dim"])]
                    if tiny:
                        cmd.append("--tiny")
                    proc = subprocess.run(cmd, capture_output=True, text=True)
                    if proc.returncode != 0:
                        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
                        echo(f"k={k} {mode}: failed ({tail})")
                        continue
                    res = json.loads(proc.stdout.strip().splitlines()[-1])
                runs[mode].append(res)
                echo(f"k={k:2d} round {rep + 1}: {mode:10s} {res['seconds_per_iteration']:8.3f} s/iteration  "
                     f"peak {res['peak_memory_mb']:8.0f} MB")
        seq = runs["sequential"]
        for mode, done in runs.items():
            if not done:
                rows_out.append({"k": k, "mode": mode, "failed": True})
                continue
            row = {"k": k, "mode": mode,
                   "seconds_per_iteration": statistics.median(r["seconds_per_iteration"] for r in done),
                   "peak_memory_mb": statistics.median(r["peak_memory_mb"] for r in done),
                   **{key: done[0][key] for key in ("memory_kind", "precision", "device")},
                   "rounds": [{key: r[key] for key in ("seconds_per_iteration", "seconds", "peak_memory_mb")}
                              for r in done]}
            if mode == "batched" and seq:
                row["time_ratio"] = row["seconds_per_iteration"] / statistics.median(
                    r["seconds_per_iteration"] for r in seq)
                row["memory_ratio"] = row["peak_memory_mb"] / statistics.median(r["peak_memory_mb"] for r in seq)
                checks = [_compare(b, s) for b in done for s in seq]
                row["same_hard_assignments"] = all(c["same_hard_assignments"] for c in checks)
                row["max_relative_loss_difference"] = max(c["max_relative_loss_difference"] for c in checks)
            rows_out.append(row)
    return rows_out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", default="1,4,8", help="numbers of same-shape sub-MSAs, comma-separated")
    ap.add_argument("--rows", type=int, default=16, help="rows of each sub-MSA")
    ap.add_argument("--columns", type=int, default=129, help="columns of each sub-MSA, <cls> included")
    ap.add_argument("--steps", type=int, default=2, help="steps of the timed solve")
    ap.add_argument("--repeats", type=int, default=2, help="rounds over the two modes (one subprocess each)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=MEDIUM["layers"])
    ap.add_argument("--embed-dim", type=int, default=MEDIUM["embed_dim"])
    ap.add_argument("--tiny", action="store_true", help="a 1-layer width-32 model: checks the script in seconds")
    ap.add_argument("--out", default=None)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    size = TINY if args.tiny else {**MEDIUM, "layers": args.layers, "embed_dim": args.embed_dim}
    if args.child:
        mode, k = args.child.split(":")
        print(json.dumps(child(mode, int(k), size=size, rows=args.rows, columns=args.columns, steps=args.steps,
                               threads=args.threads, device=args.device)))
        return
    clock = Clock()
    k_values = [int(x) for x in args.k.split(",")]
    results = measure(k_values, size=size, rows=args.rows, columns=args.columns, steps=args.steps,
                      threads=args.threads, device=args.device, repeats=args.repeats, tiny=args.tiny,
                      echo=lambda s: print(s, flush=True))
    report = {**provenance(__file__, argv, clock), "device": args.device, "architecture": size,
              "threads": args.threads, "rows": args.rows, "columns": args.columns, "steps": args.steps,
              "repeats": args.repeats, "results": results}
    print()
    print(f"{'k':>3s} {'mode':10s} {'s/iter':>8s} {'peak MB':>8s} {'time x':>7s} {'mem x':>6s} {'same':>5s} "
          f"{'max rel loss diff':>18s}")
    for r in results:
        if r.get("failed"):
            print(f"{r['k']:3d} {r['mode']:10s} failed")
            continue
        tr = f"{r['time_ratio']:.2f}" if "time_ratio" in r else "1.00"
        mr = f"{r['memory_ratio']:.2f}" if "memory_ratio" in r else "1.00"
        same = str(r["same_hard_assignments"]) if "same_hard_assignments" in r else "-"
        diff = f"{r['max_relative_loss_difference']:.1e}" if "max_relative_loss_difference" in r else "-"
        print(f"{r['k']:3d} {r['mode']:10s} {r['seconds_per_iteration']:8.3f} {r['peak_memory_mb']:8.0f} "
              f"{tr:>7s} {mr:>6s} {same:>5s} {diff:>18s}")
    out = args.out or (None if args.tiny else str(HERE / "results" / "diffpalm_batch.json"))
    write_report(report, out)


if __name__ == "__main__":
    main()
