"""Tuning of MI-IPA's homology-transfer weight on validation species only (never on the test species).

    python benchmarks/pairing_validation.py     # writes benchmarks/results/pairing_validation.json

The training species of ``benchmarks/pairing.py`` (seeded split) are split again, 80/20
(``split_species(..., test_fraction=0.2, seed=1)``).  The 80 % are the context (their true pairs,
``ContextPairs``); from the 20 % come ``--samples`` depth-50 samples, drawn and shuffled as in the
benchmark.  On each sample, :func:`protlm.pairing.mi_ipa.pair_mi_ipa` with that context runs for every
``(homology_weight, homology_beta)`` of the grid, weight 0 being MI-IPA with PMI alone.  The defaults in
:mod:`protlm.pairing.homology` are the grid point chosen here; the test species are then scored once
by ``benchmarks/pairing.py --context-table``.
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

from _provenance import Clock, provenance, write_record  # noqa: E402
from pairing import draw_samples, load_dataset, sample_families, split_dataset  # noqa: E402

log = logging.getLogger("benchmarks.pairing_validation")
GRID = ((0.0, 10.0), (0.5, 10.0), (1.0, 10.0), (2.0, 10.0), (1.0, 25.0))
VALIDATION_SPLIT = {"test_fraction": 0.2, "seed": 1}


def validate(name: str, *, n_samples: int) -> dict:
    from protlm.io import ContextPairs
    from protlm.pairing.mi_ipa import pair_mi_ipa
    from protlm.pairing.sampling import split_species

    paired = load_dataset(name)
    train, _test = split_dataset(paired)
    context_species, validation_species = split_species(train, **VALIDATION_SPLIT)
    keep = set(context_species)
    tl = np.array(sorted(l for l in paired.truth if paired.left.species[l] in keep))
    tr = np.array([paired.truth[int(l)] for l in tl])
    context = ContextPairs.from_msas(paired.left[tl], paired.right[tr])
    samples = draw_samples(paired, validation_species, n_samples=n_samples)
    per = {f"w{w:g}_beta{b:g}": [] for w, b in GRID}
    for k, species in enumerate(samples):
        sub, _, _ = sample_families(paired, species, seed=[0, k])
        for w, b in GRID:
            r = pair_mi_ipa(sub, context=context, seed=k, homology_weight=w, homology_beta=b)
            per[f"w{w:g}_beta{b:g}"].append(float(r.precision(sub.truth)))
        log.info("%s validation sample %d: %s", name, k, {key: round(v[-1], 3) for key, v in per.items()})
    return {"n_context_pairs": int(context.n_pairs), "n_validation_species": len(validation_species),
            "per_sample": per, "mean": {key: float(np.mean(v)) for key, v in per.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="hkrr,malg-malk")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "pairing_validation.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("protlm").setLevel(logging.WARNING)
    clock = Clock()
    results = {}
    for name in args.datasets.split(","):
        t0 = time.perf_counter()
        results[name] = validate(name, n_samples=args.samples)
        results[name]["seconds"] = time.perf_counter() - t0
    lines = [f"{'dataset':<10} {'grid point':<16} {'mean precision':>15}"]
    for name, res in results.items():
        for key, value in res["mean"].items():
            lines.append(f"{name:<10} {key:<16} {value:>15.4f}")
    table = "\n".join(lines)
    print(table)
    record = provenance(__file__, argv, clock, note="validation species only: training species split 80/20 again")
    record.update({"grid": [list(g) for g in GRID], "validation_split": VALIDATION_SPLIT, "results": results,
                   "table": table})
    write_record(args.out, record)


if __name__ == "__main__":
    main()
