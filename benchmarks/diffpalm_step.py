"""One DiffPALM optimisation step with the full ESM-MSA-1b architecture: protlm vs a reference-style step.

Architecture of ``esm_msa1b_t12_100M_UR50S`` (12 layers, width 768, 12 heads,
FFN 3072) with random weights; 50 rows x 177 columns (<cls> + 64 + 112, the
HK-RR size) in 9 species.  One step = Gumbel-Sinkhorn + Hungarian, masked
forward pass, backward pass, Adadelta step, through protlm's own
``diffpalm_iteration``.  Variants, each in its own subprocess (so peak RSS is
its own):

* ``protlm``: as ``protlm pair`` runs it by default: weights frozen
  (``requires_grad_(False)``) and freed buffers returned to the OS
  (:func:`protlm.models.allocator.return_freed_memory`, glibc);
* ``protlm_checkpointing``: the same plus gradient checkpointing (``--checkpointing``);
* ``reference_style``: as the authors' code runs it, weights not frozen (their
  gradients are computed and accumulate), no checkpointing, default allocator.

``--no-allocator`` runs the protlm variants without the allocator setting.

Each subprocess runs ``--steps`` steps and reports the median wall time of all
but the first (warm-up) and its peak RSS; variants alternate over ``--repeats``
rounds so that load on a shared machine hits them alike.  Targets (issue 3):
protlm at most 0.6x the reference-style time and 0.5x its peak memory.

Run:  python benchmarks/diffpalm_step.py [--repeats 2] [--steps 2] [--threads 2]
Writes benchmarks/results/diffpalm_step.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = ("reference_style", "protlm", "protlm_checkpointing")
SPECIES = (8, 7, 6, 6, 5, 5, 5, 4, 4)  # 50 rows
FULL = {"layers": 12, "embed_dim": 768, "heads": 12, "ffn_dim": 3072}
TINY = {"layers": 1, "embed_dim": 32, "heads": 4, "ffn_dim": 64}


def child(variant: str, steps: int, threads: int, size: dict, allocator: bool = True) -> dict:
    sys.path.insert(0, str(HERE.parent))
    from protlm.models.allocator import return_freed_memory

    applied = variant != "reference_style" and allocator and return_freed_memory()
    import numpy as np
    import torch

    from protlm.models.esm_msa import build_msa_transformer, freeze
    from protlm.pairing.diffpalm import PRESETS, PermutationProblem, diffpalm_iteration
    from protlm.pairing.draws import TorchDraws

    torch.set_num_threads(threads)
    model, alphabet, _ = build_msa_transformer(**size, seed=0)
    if variant == "reference_style":
        model.eval()  # the authors' model: eval mode, parameters still requiring gradients
    else:
        freeze(model)
    rng = np.random.default_rng(0)
    aa = [alphabet.get_idx(c) for c in "ACDEFGHIKLMNPQRSTVWY-"]
    n_rows, l_left, l_right = sum(SPECIES), 64, 112
    left = rng.choice(aa, size=(n_rows, 1 + l_left))
    right = rng.choice(aa, size=(n_rows, 1 + l_right))
    left[:, 0] = right[:, 0] = alphabet.cls_idx
    starts = np.cumsum([0, *SPECIES])
    problem = PermutationProblem.from_tokens(
        left, right, [np.arange(a, b) for a, b in zip(starts[:-1], starts[1:])],
        n_tokens=len(alphabet), mask_idx=alphabet.mask_idx,
    )
    settings = PRESETS["protlm"]
    scores = [torch.zeros(n, n, requires_grad=True) for n in SPECIES]
    optimizer = torch.optim.Adadelta([{"params": s} for s in scores], lr=settings.lr, weight_decay=settings.weight_decay)
    draws = TorchDraws(0)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from protlm.models.esm_msa import gradient_checkpointing

    times, losses = [], []
    for it in range(steps):
        t0 = time.perf_counter()
        uniforms = [draws.noise_uniforms(it, b, n) for b, n in enumerate(SPECIES)]
        conj = [draws.conjugation(it, b, n) for b, n in enumerate(SPECIES)]
        with torch.no_grad():
            for s in scores:
                s -= s.mean()
        mask = draws.mask_uniforms(it, (1, n_rows, l_left)) < settings.p_mask
        with gradient_checkpointing(model, variant == "protlm_checkpointing"):
            out = diffpalm_iteration(model, problem, scores, mask=mask, settings=settings,
                                     noise_factor=settings.noise_factor, uniforms=uniforms, conjugations=conj)
            out.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(out.loss.detach()))
        del out
        times.append(time.perf_counter() - t0)
    measured = times[1:] if len(times) > 1 else times
    return {
        "variant": variant,
        "seconds": statistics.median(measured),
        "step_seconds": times,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_after_build_mb": rss_before,
        "losses": losses,
        "threads": threads,
        "allocator_setting": bool(applied),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=2, help="rounds over the variants (one subprocess each)")
    ap.add_argument("--steps", type=int, default=2, help="steps per subprocess; the first is a warm-up")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tiny", action="store_true", help="a 1-layer width-32 model: checks the script in seconds")
    ap.add_argument("--no-allocator", action="store_true", help="protlm variants keep glibc's default allocator")
    ap.add_argument("--out", default=str(HERE / "results" / "diffpalm_step.json"))
    ap.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    size = TINY if args.tiny else FULL
    if args.child:
        print(json.dumps(child(args.child, args.steps, args.threads, size, allocator=not args.no_allocator)))
        return

    runs = {v: [] for v in VARIANTS}
    for rep in range(args.repeats):
        order = VARIANTS if rep % 2 == 0 else VARIANTS[::-1]
        for variant in order:
            cmd = [sys.executable, __file__, "--child", variant, "--steps", str(args.steps), "--threads", str(args.threads)]
            if args.tiny:
                cmd.append("--tiny")
            if args.no_allocator:
                cmd.append("--no-allocator")
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            runs[variant].append(res)
            print(f"round {rep + 1}: {variant:22s} {res['seconds']:8.2f} s  peak RSS {res['peak_rss_mb']:8.0f} MB", flush=True)

    summary = {}
    for v in VARIANTS:
        summary[v] = {
            "seconds": statistics.median(r["seconds"] for r in runs[v]),
            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs[v]),
            "runs": runs[v],
        }
    ref = summary["reference_style"]
    for v in ("protlm", "protlm_checkpointing"):
        summary[v]["time_ratio"] = summary[v]["seconds"] / ref["seconds"]
        summary[v]["memory_ratio"] = summary[v]["peak_rss_mb"] / ref["peak_rss_mb"]
    summary["setup"] = {
        "architecture": size, "rows": sum(SPECIES), "columns": 177, "species": list(SPECIES),
        "threads": args.threads, "steps_per_process": args.steps, "repeats": args.repeats,
        "protlm_allocator_setting": not args.no_allocator,
        "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
        "load_average_at_end": os.getloadavg(), "command": " ".join(["python", "benchmarks/diffpalm_step.py", *sys.argv[1:]]),
        "targets": {"time_ratio_max": 0.6, "memory_ratio_max": 0.5},
    }
    print()
    print(f"{'variant':22s} {'seconds':>9s} {'peak RSS MB':>12s} {'time ratio':>11s} {'memory ratio':>13s}")
    for v in VARIANTS:
        s = summary[v]
        tr = f"{s['time_ratio']:.2f}" if "time_ratio" in s else "1.00"
        mr = f"{s['memory_ratio']:.2f}" if "memory_ratio" in s else "1.00"
        print(f"{v:22s} {s['seconds']:9.2f} {s['peak_rss_mb']:12.0f} {tr:>11s} {mr:>13s}")
    if not args.tiny:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
