"""Entropy IPA's phylogeny kernel on validation sets of HK-RR species outside the 575 set (never on the 575 set).

    python benchmarks/entropy_ipa_validation.py   # writes benchmarks/results/entropy_ipa_validation.json

Validation sets: whole species of the standard HK-RR set (``hkrr_standard.fasta``, GPL-3.0, read from
``../shared``) that are *not* in ``hkrr_standard_575.fasta``, drawn by
:func:`protlm.pairing.sampling.sample_depth_window` to 575 pairs each (5 % tolerance, species of 2-60 pairs):
two sets with seed 11 and three with seed 23, right rows shuffled within species (seed ``[7, k]``).  On each,
:func:`protlm.pairing.entropy_ipa.pair_entropy_ipa` (default settings, seed 0) runs with the phylogeny kernel
of :mod:`protlm.pairing.homology` at ``beta`` 3, 5 and 10, and with the kernel it replaced,
``id(l, l_k)^8`` (fraction of identical columns, gaps included), re-implemented here as the baseline, one run
each; and the BLOSUM62 kernel at ``beta`` 5 with :data:`RUNS` runs (seeds 0-6) combined by their votes.  These
rows pass ``n_soft_steps=0``: no soft refinement.  The refinement rows add the default soft refinement
(:mod:`protlm.pairing.soft_refine`) to one run, to the votes of the first five runs with every column pair in the
coevolution score (the default before the column-pair selection), to the :data:`RUNS` runs' votes with every
column pair, and to the :data:`RUNS` runs' votes with the default selection (the default of ``pair_entropy_ipa``),
each compared with the same runs without it.  Runs are deterministic, so each (set, kernel, beta, seed) run is
computed once in the invocation and shared by the rows that use it.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _hkrr import DATA, load_hkrr  # noqa: E402
from _provenance import Clock, provenance, rel, write_record  # noqa: E402
from pairing import sample_families  # noqa: E402

log = logging.getLogger("benchmarks.entropy_ipa_validation")
DRAWS = ((11, 2), (23, 3))  # (seed, sets)
BETAS = (3.0, 5.0, 10.0)
#: Runs combined in the ensemble rows (``pair_entropy_ipa(n_runs=...)``, the default); the kernel rows make one
#: run each.
RUNS = 7
#: Runs of the previous default (five runs, every column pair).
PREVIOUS_RUNS = 5


def identity_power_kernel(power: float):
    """The replaced phylogeny kernel: fraction of identical columns (gaps included) to the ``power``."""
    def kernel(codes, reference, *, beta):  # noqa: ARG001  (same signature as similarity_kernel)
        def one_hot(c):
            n, length = c.shape
            x = np.zeros((n, length * 21), dtype=np.float32)
            x[np.repeat(np.arange(n), length), (np.arange(length) * 21 + c.astype(np.int64)).ravel()] = 1.0
            return x
        return ((one_hot(codes) @ one_hot(reference).T) / np.float32(codes.shape[1])) ** power
    return kernel


def validation_sets():
    from protlm.io import PairedFamilies, read_msa
    from protlm.pairing.sampling import sample_depth_window

    msa = read_msa(DATA / "hkrr_standard.fasta")[1:-1]
    full = PairedFamilies.from_concatenated(msa, split_at=64, species_key="field:|:2", truth="same-order")
    test_species = {b.species for b in load_hkrr("hkrr_standard_575.fasta", seed=0).blocks}
    sizes = {b.species: min(b.n_left, b.n_right) for b in full.blocks if b.species not in test_species}
    out = []
    for seed, n in DRAWS:
        for k, species in enumerate(sample_depth_window(sizes, n_samples=n, depth=575, tolerance=0.05, min_size=2,
                                                        max_size=60, seed=seed)):
            sub, _, _ = sample_families(full, species, seed=[7, k])
            out.append((f"seed{seed}_set{k}", sub))
    return out


def main(argv=None):
    import protlm.pairing.entropy_ipa as entropy_ipa

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "entropy_ipa_validation.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("protlm").setLevel(logging.WARNING)
    clock = Clock()
    blosum = entropy_ipa.similarity_kernel
    kernels = {"identity^8 (replaced)": (identity_power_kernel(8.0), None, 1, 0, None)}
    kernels.update({f"blosum62 beta {b:g}": (blosum, b, 1, 0, None) for b in BETAS})
    kernels[f"blosum62 beta 5, {RUNS} runs combined"] = (blosum, 5.0, RUNS, 0, None)
    kernels["blosum62 beta 5, 1 run + soft refinement"] = (blosum, 5.0, 1, None, None)
    kernels[f"blosum62 beta 5, {PREVIOUS_RUNS} runs + soft refinement, all column pairs (previous default)"] = (
        blosum, 5.0, PREVIOUS_RUNS, None, 0)
    kernels[f"blosum62 beta 5, {RUNS} runs + soft refinement, all column pairs"] = (blosum, 5.0, RUNS, None, 0)
    kernels[f"blosum62 beta 5, {RUNS} runs + soft refinement (default)"] = (blosum, 5.0, RUNS, None, None)
    once, memo = entropy_ipa._pair_once, {}

    def pair_once(paired, *, seed, homology_beta, shared, **kw):  # deterministic: one computation per run
        key = (id(paired), entropy_ipa.similarity_kernel, homology_beta, seed)
        if key not in memo:
            own = dict(shared)  # what the call's earlier runs share (inputs, kernels)
            memo[key] = (once(paired, seed=seed, homology_beta=homology_beta, shared=own, **kw), own)
        result, own = memo[key]
        shared.update(own)
        return result

    entropy_ipa._pair_once = pair_once
    rows = []
    for name, sub in validation_sets():
        row = {"set": name, "n_pairs": len(sub.truth), "n_species": len(sub.blocks)}
        for label, (kernel, beta, runs, soft, top) in kernels.items():
            entropy_ipa.similarity_kernel = kernel
            t0 = time.perf_counter()
            result = entropy_ipa.pair_entropy_ipa(sub, seed=0, homology_beta=beta, n_runs=runs, n_soft_steps=soft,
                                                  top_column_pairs=top)
            row[label] = {"precision": float(result.precision(sub.truth)), "seconds": time.perf_counter() - t0}
            log.info("%s %s: %.4f", name, label, row[label]["precision"])
        rows.append(row)
        memo.clear()
    entropy_ipa._pair_once = once
    means = {label: float(np.mean([r[label]["precision"] for r in rows])) for label in kernels}
    better = {label: int(sum(r[label]["precision"] > r["identity^8 (replaced)"]["precision"] for r in rows))
              for label in kernels if label != "identity^8 (replaced)"}
    refined = {"blosum62 beta 5, 1 run + soft refinement": "blosum62 beta 5",
               f"blosum62 beta 5, {RUNS} runs + soft refinement, all column pairs":
                   f"blosum62 beta 5, {RUNS} runs combined",
               f"blosum62 beta 5, {RUNS} runs + soft refinement (default)": f"blosum62 beta 5, {RUNS} runs combined"}
    default = f"blosum62 beta 5, {RUNS} runs + soft refinement (default)"
    previous = f"blosum62 beta 5, {PREVIOUS_RUNS} runs + soft refinement, all column pairs (previous default)"
    better_than_previous = int(sum(r[default]["precision"] > r[previous]["precision"] for r in rows))
    better_than_unrefined = {label: int(sum(r[label]["precision"] > r[base]["precision"] for r in rows))
                             for label, base in refined.items()}
    width = max(map(len, kernels)) + 2
    lines = [f"{'kernel':<{width}} {'mean precision':>15}  sets better than identity^8 / than unrefined"]
    lines += [f"{label:<{width}} {value:>15.4f}  {better.get(label, '')}"
              + (f" / {better_than_unrefined[label]}" if label in refined else "") for label, value in means.items()]
    lines.append(f"default better than the previous default on {better_than_previous} of {len(rows)} sets")
    table = "\n".join(lines)
    print(table)
    record = provenance(__file__, argv, clock, note="validation sets only: HK-RR species outside the 575 set")
    record.update({"data": [rel(DATA / "hkrr_standard.fasta"), rel(DATA / "hkrr_standard_575.fasta")],
                   "draws": [list(d) for d in DRAWS], "sets": rows, "mean_precision": means,
                   "sets_better_than_identity_power": better, "sets_better_than_unrefined": better_than_unrefined,
                   "sets_default_better_than_previous_default": better_than_previous,
                   "seconds_note": "runs are computed once per (set, kernel, beta, seed) and shared: a row's seconds "
                                   "exclude the runs an earlier row computed",
                   "unrefined_row_of": refined, "table": table})
    write_record(args.out, record)


if __name__ == "__main__":
    main()
