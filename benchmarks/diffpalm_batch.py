"""k DiffPALM sub-MSAs of the same shape: one batched forward pass per iteration against one sub-MSA at a time.

Issue 20, item 4.  ``pair_diffpalm`` optimises the (run, sub-MSA) problems of
equal depth in lockstep (:func:`protlm.pairing.diffpalm_solver.optimize_permutations_batch`);
the baseline, measured in the same invocation, is the same k problems solved
one after another (``max_batch=1``).

Time: one process per k builds the model and the k problems, warms both modes
up (a 1-step solve each), then runs ``--rounds`` rounds; each round solves the
k problems for ``--steps`` steps (``steps + 1`` iterations, the last one only
evaluates) both ways, in alternating order, so that the two solves of a round
see the same load on a shared machine.  Reported: seconds per iteration of all
k problems (median and minimum over rounds) and the median of the per-round
ratios batched / sequential.  The same process checks that the batched traces
are the sequential ones (every iteration's hard assignment; the largest
relative loss difference), in fp32 so that the comparison is of batching, not
of bf16 rounding.  Memory: each mode once more in a subprocess of its own, its
peak RSS after a 1-step solve (on CUDA, ``torch.cuda.max_memory_allocated``
in the timing process).

Models (``--models``): random MSA Transformers, ``small`` (2 layers, width 64,
4 heads, FFN 256) and ``medium`` (4 layers, width 256, 8 heads, FFN 1024);
problems of ``--rows`` x ``--columns`` with
HK-RR-like species blocks (default 16 x 129: two species of 8), k = 4 and 8.

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
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _provenance import Clock, provenance  # noqa: E402
from diffpalm_step import _problem, write_report  # noqa: E402

MODELS = {
    "small": {"layers": 2, "embed_dim": 64, "heads": 4, "ffn_dim": 256},
    "medium": {"layers": 4, "embed_dim": 256, "heads": 8, "ffn_dim": 1024},
}
TINY = {"layers": 1, "embed_dim": 32, "heads": 4, "ffn_dim": 64}
MODES = ("sequential", "batched")


def _setup(k: int, *, size: dict, rows: int, columns: int, threads: int, device: str):
    """The model (frozen, on ``device``), k random problems and a synchronisation function."""
    import torch

    from protlm.models.device import resolve_device
    from protlm.models.esm_msa import build_msa_transformer, freeze

    torch.set_num_threads(threads)
    dev = resolve_device(device)
    model, alphabet, _ = build_msa_transformer(**size, seed=0)
    model = freeze(model).to(dev)
    problems = [_problem(rows, columns, alphabet, dev, seed=b)[0] for b in range(k)]
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    return model, problems, sync, dev


def _solve(model, problems, mode: str, steps: int):
    """The k traces: one lockstep batch, or one problem after another (draws ``TorchDraws(b)`` for problem b)."""
    from protlm.pairing.diffpalm_solver import optimize_permutations_batch
    from protlm.pairing.draws import TorchDraws

    if mode == "batched":
        return optimize_permutations_batch(model, problems, steps=steps, precision="fp32",
                                           draws=[TorchDraws(b) for b in range(len(problems))])
    return [optimize_permutations_batch(model, [p], steps=steps, precision="fp32", draws=[TorchDraws(b)])[0]
            for b, p in enumerate(problems)]


def _compare(batched, sequential) -> dict:
    """Whether the batched traces are the sequential ones: hard assignments, largest relative loss difference."""
    import numpy as np

    rel = max(abs(a - b) / max(abs(b), 1e-30)
              for tb, ts in zip(batched, sequential) for a, b in zip(tb.losses, ts.losses))
    return {"same_hard_assignments": all(np.array_equal(tb.perms, ts.perms) for tb, ts in zip(batched, sequential)),
            "max_relative_loss_difference": rel}


def timing(k: int, *, size: dict, rows: int, columns: int, steps: int, threads: int, device: str,
           rounds: int, echo=print) -> dict:
    """Both modes over ``rounds`` alternating rounds in this process: seconds, ratios, the trace check."""
    import torch

    model, problems, sync, dev = _setup(k, size=size, rows=rows, columns=columns, threads=threads, device=device)
    for mode in MODES:
        _solve(model, problems, mode, 1)  # warm-up: allocator, kernels
    seconds = {mode: [] for mode in MODES}
    peak = {}
    traces = {}
    for rep in range(rounds):
        for mode in (MODES if rep % 2 == 0 else MODES[::-1]):
            if dev.type == "cuda":
                torch.cuda.reset_peak_memory_stats(dev)
            sync()
            t0 = time.perf_counter()
            traces[mode] = _solve(model, problems, mode, steps)
            sync()
            seconds[mode].append((time.perf_counter() - t0) / (steps + 1))
            if dev.type == "cuda":
                peak[mode] = torch.cuda.max_memory_allocated(dev) / 2**20
        echo(f"k={k} round {rep + 1}: sequential {seconds['sequential'][-1]:8.3f}  batched "
             f"{seconds['batched'][-1]:8.3f} s/iteration")
    ratios = [b / s for b, s in zip(seconds["batched"], seconds["sequential"])]
    return {"k": k, "seconds_per_iteration": seconds, "batched_over_sequential": ratios,
            "cuda_peak_mb": peak or None, **_compare(traces["batched"], traces["sequential"]), "device": str(dev)}


def memory_child(mode: str, k: int, *, size: dict, rows: int, columns: int, threads: int, device: str) -> dict:
    """Peak RSS (MB) of this process after a 1-step solve of k problems in ``mode``."""
    model, problems, _, _ = _setup(k, size=size, rows=rows, columns=columns, threads=threads, device=device)
    _solve(model, problems, mode, 1)
    return {"mode": mode, "k": k, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(k_values, *, size: dict, rows: int, columns: int, steps: int, threads: int, device: str,
            rounds: int = 5, echo=print) -> list:
    """One row per k: timing (this process) and, on CPU, each mode's peak RSS (a subprocess each)."""
    memory = {}
    if not str(device).startswith("cuda"):
        # before any model is built here: a forked child's ru_maxrss starts at its parent's resident size
        for k in k_values:
            memory[k] = {}
            for mode in MODES:
                cmd = [sys.executable, __file__, "--memory-child", f"{mode}:{k}", "--threads", str(threads),
                       "--rows", str(rows), "--columns", str(columns), "--device", device,
                       "--size", json.dumps(size)]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    memory[k][mode] = None
                    echo(f"k={k} {mode} memory: failed ({(proc.stderr.strip().splitlines() or ['?'])[-1]})")
                    continue
                memory[k][mode] = json.loads(proc.stdout.strip().splitlines()[-1])["peak_rss_mb"]
                echo(f"k={k} {mode}: peak RSS {memory[k][mode]:.0f} MB")
    out = []
    for k in k_values:
        row = timing(k, size=size, rows=rows, columns=columns, steps=steps, threads=threads, device=device,
                     rounds=rounds, echo=echo)
        secs = row["seconds_per_iteration"]
        row["median_seconds_per_iteration"] = {m: statistics.median(secs[m]) for m in MODES}
        row["min_seconds_per_iteration"] = {m: min(secs[m]) for m in MODES}
        row["time_ratio"] = statistics.median(row["batched_over_sequential"])
        cuda_peak = row.pop("cuda_peak_mb")
        row["peak_memory_mb"] = cuda_peak if cuda_peak else memory[k]
        row["memory_kind"] = "cuda_max_allocated" if cuda_peak else "peak_rss"
        mem = row["peak_memory_mb"]
        row["memory_ratio"] = (mem["batched"] / mem["sequential"]) if mem.get("batched") and mem.get("sequential") \
            else None
        out.append(row)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", default="4,8", help="numbers of same-shape sub-MSAs, comma-separated")
    ap.add_argument("--rows", type=int, default=16, help="rows of each sub-MSA")
    ap.add_argument("--columns", type=int, default=129, help="columns of each sub-MSA, <cls> included")
    ap.add_argument("--steps", type=int, default=2, help="steps of each timed solve")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds (both modes, alternating order)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default="small,medium", help=f"model sizes, comma-separated, of {', '.join(MODELS)}")
    ap.add_argument("--size", help=argparse.SUPPRESS)
    ap.add_argument("--tiny", action="store_true", help="a 1-layer width-32 model: checks the script in seconds")
    ap.add_argument("--out", default=None)
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    ap.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_child:
        mode, k = args.memory_child.split(":")
        print(json.dumps(memory_child(mode, int(k), size=json.loads(args.size), rows=args.rows, columns=args.columns,
                                      threads=args.threads, device=args.device)))
        return
    clock = Clock()
    sizes = {"tiny": TINY} if args.tiny else {name: MODELS[name] for name in args.models.split(",")}
    results = []
    for name, size in sizes.items():
        for row in measure([int(x) for x in args.k.split(",")], size=size, rows=args.rows, columns=args.columns,
                           steps=args.steps, threads=args.threads, device=args.device, rounds=args.rounds,
                           echo=lambda s, name=name: print(f"{name}: {s}", flush=True)):
            results.append({"model": name, "architecture": size, **row})
    report = {**provenance(__file__, argv, clock), "device": args.device,
              "threads": args.threads, "rows": args.rows, "columns": args.columns, "steps": args.steps,
              "rounds": args.rounds, "results": results}
    print()
    print(f"{'model':>7s} {'k':>3s} {'seq s/it':>9s} {'batch s/it':>10s} {'(min)':>13s} {'time x':>7s} {'peak MB':>13s} "
          f"{'mem x':>6s} {'same':>5s} {'max rel loss diff':>18s}")
    for r in results:
        med, low, mem = r["median_seconds_per_iteration"], r["min_seconds_per_iteration"], r["peak_memory_mb"]
        mr = f"{r['memory_ratio']:.2f}" if r["memory_ratio"] else "-"
        print(f"{r['model']:>7s} {r['k']:3d} {med['sequential']:9.3f} {med['batched']:10.3f} "
              f"{low['sequential']:6.3f}/{low['batched']:6.3f} {r['time_ratio']:7.2f} "
              f"{mem.get('sequential') or 0:6.0f}/{mem.get('batched') or 0:6.0f} {mr:>6s} "
              f"{str(r['same_hard_assignments']):>5s} {r['max_relative_loss_difference']:18.1e}")
    write_report(report, args.out or (None if args.tiny else str(HERE / "results" / "diffpalm_batch.json")))


if __name__ == "__main__":
    main()
