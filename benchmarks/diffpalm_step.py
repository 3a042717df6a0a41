"""One DiffPALM optimisation step with the full ESM-MSA-1b architecture: protlm vs a reference-style step.

Architecture of ``esm_msa1b_t12_100M_UR50S`` (12 layers, width 768, 12 heads,
FFN 3072) with random weights.  One step = Gumbel-Sinkhorn + Hungarian, masked
forward pass, backward pass, Adadelta step, through protlm's own
``diffpalm_iteration``.  Variants (``STYLE:PRECISION[:checkpointing]``), each in
its own subprocess so that its peak memory is its own:

* ``reference_style:fp32``: as the authors' code runs it: weights not frozen
  (their gradients are computed and accumulate), no checkpointing, float32,
  glibc's default allocator;
* ``protlm:auto``: as ``protlm pair`` runs it by default: weights frozen, freed
  buffers returned to the OS (:func:`protlm.models.allocator.return_freed_memory`),
  precision ``auto`` (bf16 on CPUs with AMX-BF16 and CUDA >= 8.0, else fp32);
* ``protlm:fp32``: the same in float32;
* ``protlm:auto:checkpointing``: the default plus gradient checkpointing.

Each subprocess runs ``--steps`` steps and reports the median time of all but
the first (warm-up, during which the FLOPs are counted with
``torch.utils.flop_counter``) and its peak memory (RSS on CPU; on CUDA
``torch.cuda.max_memory_allocated``).  Variants alternate over ``--repeats``
rounds so that load on a shared machine hits them alike.  The same invocation
measures this machine's dense matrix-product throughput (fp32 and bf16) so the
step's FLOP rate can be read as a fraction of it.

Targets (issue 20): on 2 CPU threads at 50 x 177 the default configuration at
most 0.4x the reference-style time and 0.4x its peak memory.

CPU (the committed run)::

    python benchmarks/diffpalm_step.py --repeats 2 --steps 2 --threads 2

GPU (``--gpu``: shapes 50 x 177, 256 x 250, 1024 x 250; fp32 and bf16; protlm
against reference-style; then one 100-step ``pair_diffpalm`` run at 1024 x 250;
then 8 sub-MSAs of 50 x 177 in one batched pass against one at a time,
``benchmarks/diffpalm_batch.py``'s measurement)::

    python benchmarks/diffpalm_step.py --gpu

writes ``benchmarks/results/diffpalm_step.json`` (``diffpalm_step_gpu.json``
with ``--gpu``) and prints a table.  ``--tiny`` checks the script in seconds
(1 layer, width 32; writes nothing unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import contextlib
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

CPU_VARIANTS = ("reference_style:fp32", "protlm:auto", "protlm:fp32", "protlm:auto:checkpointing")
GPU_VARIANTS = ("reference_style:fp32", "reference_style:bf16", "protlm:fp32", "protlm:bf16")
CPU_SHAPES = ((50, 177),)
GPU_SHAPES = ((50, 177), (256, 250), (1024, 250))
FULL = {"layers": 12, "embed_dim": 768, "heads": 12, "ffn_dim": 3072}
TINY = {"layers": 1, "embed_dim": 32, "heads": 4, "ffn_dim": 64}
TARGET = {"time_ratio_max": 0.4, "memory_ratio_max": 0.4}


def species_sizes(rows: int) -> list:
    """Species blocks of 4-8 rows summing to ``rows`` (50 -> the HK-RR-like 8, 7, 6, 6, 5, 5, 5, 4, 4)."""
    if rows == 50:
        return [8, 7, 6, 6, 5, 5, 5, 4, 4]
    sizes = [8] * (rows // 8)
    if rows % 8:
        sizes.append(rows % 8)
    return sizes


def _problem(rows: int, columns: int, alphabet, device, *, seed: int = 0):
    """A random ``rows x columns`` problem (HK-RR-like species blocks): ``(problem, sizes, l_left)``."""
    import numpy as np

    from protlm.pairing.diffpalm_solver import PermutationProblem

    rng = np.random.default_rng(seed)
    aa = [alphabet.get_idx(c) for c in "ACDEFGHIKLMNPQRSTVWY-"]
    l_left = (columns - 1) * 64 // 176  # the HK-RR proportions: 64 + 112 at 177 columns
    l_right = columns - 1 - l_left
    left = rng.choice(aa, size=(rows, 1 + l_left))
    right = rng.choice(aa, size=(rows, 1 + l_right))
    left[:, 0] = right[:, 0] = alphabet.cls_idx
    sizes = species_sizes(rows)
    starts = np.cumsum([0, *sizes])
    problem = PermutationProblem.from_tokens(
        left, right, [np.arange(a, b) for a, b in zip(starts[:-1], starts[1:])],
        n_tokens=len(alphabet), mask_idx=alphabet.mask_idx, device=device,
    )
    return problem, sizes, l_left


def child(variant: str, *, steps: int, threads: int, size: dict, rows: int, columns: int, device: str) -> dict:
    """Run ``steps`` steps of one variant in this process; the measurements as a dict."""
    style, precision, *rest = variant.split(":")
    checkpointing = "checkpointing" in rest
    from protlm.models.allocator import return_freed_memory

    applied = style == "protlm" and device == "cpu" and return_freed_memory()
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from protlm.models.device import resolve_device, resolve_precision
    from protlm.models.esm_msa import build_msa_transformer, freeze, gradient_checkpointing
    from protlm.pairing.diffpalm_solver import PRESETS, diffpalm_iteration
    from protlm.pairing.draws import TorchDraws

    torch.set_num_threads(threads)
    dev = resolve_device(device)
    precision = resolve_precision(precision, dev)
    model, alphabet, _ = build_msa_transformer(**size, seed=0)
    if style == "reference_style":
        model.eval()  # the authors' model: eval mode, parameters still requiring gradients
    else:
        freeze(model)
    model = model.to(dev)
    problem, sizes, l_left = _problem(rows, columns, alphabet, dev)
    settings = PRESETS["protlm"]
    scores = [torch.zeros(n, n, requires_grad=True, device=dev) for n in sizes]
    optimizer = torch.optim.Adadelta([{"params": s} for s in scores], lr=settings.lr, weight_decay=settings.weight_decay)
    draws = TorchDraws(0)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    times, losses, flops = [], [], None
    for it in range(steps):
        sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
        sync()
        t0 = time.perf_counter()
        counter = FlopCounterMode(display=False) if it == 0 else None
        uniforms = [draws.noise_uniforms(it, b, n).to(dev) for b, n in enumerate(sizes)]
        conj = [draws.conjugation(it, b, n) for b, n in enumerate(sizes)]
        with torch.no_grad():
            for s in scores:
                s -= s.mean()
        mask = (draws.mask_uniforms(it, (1, rows, l_left)) < settings.p_mask).to(dev)
        with gradient_checkpointing(model, checkpointing), (counter or contextlib.nullcontext()):
            out = diffpalm_iteration(model, problem, scores, mask=mask, settings=settings,
                                     noise_factor=settings.noise_factor, uniforms=uniforms, conjugations=conj,
                                     precision=precision)
            out.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(out.loss.detach()))
        del out
        sync()
        times.append(time.perf_counter() - t0)
        if counter is not None:
            flops = int(counter.get_total_flops())
    measured = times[1:] if len(times) > 1 else times
    peak = (torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {
        "variant": variant, "precision": precision, "checkpointing": checkpointing,
        "seconds": statistics.median(measured), "step_seconds": times,
        "peak_memory_mb": peak, "memory_kind": "cuda_max_allocated" if dev.type == "cuda" else "peak_rss",
        "flops_per_step": flops, "losses": losses, "threads": threads, "allocator_setting": bool(applied),
        "device": str(dev), "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else None,
    }


def matmul_throughput(device: str, threads: int, n: int = 2048, repeats: int = 5) -> dict:
    """Best GFLOP/s of an ``n x n`` matrix product on ``device``, fp32 and bf16."""
    import torch

    torch.set_num_threads(threads)
    out = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        best = float("inf")
        for _ in range(repeats + 1):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            a @ b
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t0)
        out[name] = round(2 * n**3 / best / 1e9, 1)
    return out


def full_run(*, rows: int, columns: int, steps: int, device: str, precision: str) -> dict:
    """One ``pair_diffpalm`` run (random weights, shuffled blocks) at ``rows x columns``: wall seconds."""
    import torch

    from protlm.io import MSA, PairedFamilies
    from protlm.models.esm_msa import build_msa_transformer, freeze
    from protlm.pairing.diffpalm import pair_diffpalm

    model, alphabet, _ = build_msa_transformer(**FULL, seed=0)
    problem, sizes, l_left = _problem(rows, columns, alphabet, "cpu")
    letters = "ACDEFGHIKLMNPQRSTVWY"
    import numpy as np

    rng = np.random.default_rng(1)
    l_right = columns - 1 - l_left
    ids_l, ids_r, seq_l, seq_r = [], [], [], []
    for s, n in enumerate(sizes):
        for i in range(n):
            ids_l.append(f"l{s}_{i}_{s}"), ids_r.append(f"r{s}_{i}_{s}")
            seq_l.append("".join(rng.choice(list(letters), l_left)))
            seq_r.append("".join(rng.choice(list(letters), l_right)))
    paired = PairedFamilies.from_msas(MSA.from_sequences(seq_l, ids=ids_l), MSA.from_sequences(seq_r, ids=ids_r),
                                      species_key="field:_:-1", truth="same-order")
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    result = pair_diffpalm(paired, model=freeze(model), alphabet=alphabet, steps=steps, device=device,
                           precision=precision, max_depth=rows)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return {"rows": rows, "columns": columns, "steps": steps, "precision": result.info["precision"],
            "seconds": round(time.perf_counter() - t0, 1), "n_sub_msas": result.info["n_sub_msas"],
            "target_seconds": 180}


def write_report(report: dict, out) -> None:
    """Write ``report`` as JSON to ``out`` (nothing when ``out`` is ``None``)."""
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {out}")


def batched_sub_msas(*, device: str, size: dict = FULL, k_values=(8,), rows: int = 50, columns: int = 177,
                     steps: int = 5, rounds: int = 3) -> dict:
    """k same-shape sub-MSAs in one batched pass against one at a time (``diffpalm_batch.measure``)."""
    from diffpalm_batch import measure

    try:
        return {"rows": rows, "columns": columns, "steps": steps, "rounds": rounds,
                "results": measure(list(k_values), size=size, rows=rows, columns=columns, steps=steps, threads=1,
                                   device=device, rounds=rounds, echo=lambda s: print(s, flush=True))}
    except Exception as exc:  # noqa: BLE001 - the step table is still worth committing
        return {"failed": f"{type(exc).__name__}: {exc}"}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=2, help="rounds over the variants (one subprocess each)")
    ap.add_argument("--steps", type=int, default=2, help="steps per subprocess; the first is a warm-up")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--gpu", action="store_true", help="the GPU measurement (CUDA device 0)")
    ap.add_argument("--full-run-steps", type=int, default=100, help="with --gpu: steps of the full run at 1024 x 250")
    ap.add_argument("--tiny", action="store_true", help="a 1-layer width-32 model: checks the script in seconds")
    ap.add_argument("--out", default=None)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--shape", default="50x177", help=argparse.SUPPRESS)
    ap.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    size = TINY if args.tiny else FULL
    if args.child:
        rows, columns = map(int, args.shape.split("x"))
        print(json.dumps(child(args.child, steps=args.steps, threads=args.threads, size=size, rows=rows,
                               columns=columns, device=args.device)))
        return

    clock = Clock()
    device = "cuda" if args.gpu else "cpu"
    variants = GPU_VARIANTS if args.gpu else CPU_VARIANTS
    shapes = GPU_SHAPES if args.gpu else CPU_SHAPES
    throughput = matmul_throughput(device, args.threads)
    print(f"matrix products on {device}: {throughput} GFLOP/s", flush=True)
    results = []
    for rows, columns in shapes:
        runs = {v: [] for v in variants}
        for rep in range(args.repeats):
            for variant in (variants if rep % 2 == 0 else variants[::-1]):
                cmd = [sys.executable, __file__, "--child", variant, "--steps", str(args.steps), "--threads",
                       str(args.threads), "--shape", f"{rows}x{columns}", "--device", device]
                if args.tiny:
                    cmd.append("--tiny")
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
                    print(f"{rows}x{columns} {variant}: failed ({tail})", flush=True)
                    runs[variant].append({"variant": variant, "failed": tail})
                    continue
                res = json.loads(proc.stdout.strip().splitlines()[-1])
                runs[variant].append(res)
                print(f"{rows}x{columns} round {rep + 1}: {variant:26s} {res['seconds']:8.2f} s  "
                      f"peak {res['peak_memory_mb']:9.0f} MB  ({res['precision']})", flush=True)
        ref = None
        for v in variants:
            ok = [r for r in runs[v] if "failed" not in r]
            row = {"rows": rows, "columns": columns, "variant": v, "runs": runs[v]}
            if ok:
                row.update(seconds=statistics.median(r["seconds"] for r in ok),
                           peak_memory_mb=statistics.median(r["peak_memory_mb"] for r in ok),
                           precision=ok[0]["precision"], flops_per_step=ok[0]["flops_per_step"])
                rate = row["flops_per_step"] / row["seconds"] / 1e9 if row["flops_per_step"] else None
                row["gflop_per_s"] = round(rate, 1) if rate else None
                row["fraction_of_matmul_peak"] = round(rate / throughput[row["precision"]], 3) if rate else None
                if v.startswith("reference_style:fp32"):
                    ref = row
                elif ref is not None:
                    row["time_ratio"] = row["seconds"] / ref["seconds"]
                    row["memory_ratio"] = row["peak_memory_mb"] / ref["peak_memory_mb"]
            results.append(row)
    report = {
        **provenance(__file__, argv, clock),
        "device": device, "architecture": size, "threads": args.threads, "steps_per_process": args.steps,
        "repeats": args.repeats, "matmul_gflop_per_s": throughput, "results": results,
    }
    if args.gpu and not args.tiny:
        import torch

        report["device_name"] = torch.cuda.get_device_name(0)
        try:
            report["full_run"] = full_run(rows=1024, columns=250, steps=args.full_run_steps, device="cuda",
                                          precision="auto")
        except Exception as exc:  # noqa: BLE001 - the step table is still worth committing
            report["full_run"] = {"failed": f"{type(exc).__name__}: {exc}"}
        report["batched_sub_msas"] = batched_sub_msas(device="cuda")
    if not args.gpu:
        default = next((r for r in results if r["variant"] == "protlm:auto" and "time_ratio" in r), None)
        if default:
            report["target"] = {**TARGET, "time_ratio": round(default["time_ratio"], 3),
                                "memory_ratio": round(default["memory_ratio"], 3),
                                "met": default["time_ratio"] <= TARGET["time_ratio_max"]
                                and default["memory_ratio"] <= TARGET["memory_ratio_max"]}

    print()
    print(f"{'shape':>9s} {'variant':26s} {'prec':>5s} {'seconds':>9s} {'peak MB':>9s} {'time x':>7s} "
          f"{'mem x':>6s} {'GFLOP/s':>8s} {'of peak':>8s}")
    for r in results:
        if "seconds" not in r:
            print(f"{r['rows']}x{r['columns']:<5d} {r['variant']:26s} failed")
            continue
        tr = f"{r['time_ratio']:.2f}" if "time_ratio" in r else "1.00"
        mr = f"{r['memory_ratio']:.2f}" if "memory_ratio" in r else "1.00"
        frac = f"{r['fraction_of_matmul_peak']:.2f}" if r.get("fraction_of_matmul_peak") else "-"
        print(f"{r['rows']:>4d}x{r['columns']:<4d} {r['variant']:26s} {r['precision']:>5s} {r['seconds']:9.2f} "
              f"{r['peak_memory_mb']:9.0f} {tr:>7s} {mr:>6s} {r['gflop_per_s'] or 0:8.1f} {frac:>8s}")
    if "full_run" in report:
        print(f"full run: {report['full_run']}")
    if "batched_sub_msas" in report:
        print(f"batched sub-MSAs: {report['batched_sub_msas']}")
    if "target" in report:
        t = report["target"]
        print(f"target (<= {t['time_ratio_max']}x time and memory): time {t['time_ratio']:.2f}x, "
              f"memory {t['memory_ratio']:.2f}x -> {'met' if t['met'] else 'missed'}")
    out = args.out or (None if args.tiny else str(HERE / "results" / ("diffpalm_step_gpu.json" if args.gpu
                                                                      else "diffpalm_step.json")))
    write_report(report, out)


if __name__ == "__main__":
    main()
