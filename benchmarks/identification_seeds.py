"""How much issue 19's tryptic ceiling ratio moves with the sample: the (a) tryptic rows of identification.py on
several samples of E. coli proteins.

    python benchmarks/identification_seeds.py      # writes benchmarks/results/identification_seeds.json

``identification.py`` measures each row on one sample: 400 E. coli proteins drawn with seed 0, their reads
simulated with seed 0.  Here the same rows (tryptic peptides >= 6 residues, e = 0.9, KCYM and KCYMRHWST,
without errors and with Whatprot-like errors, searched with ``digest="trypsin"`` against the E. coli
proteome) are measured on seed 0, which reproduces those rows, and on seeds 7, 8 and 9 (the validation
samples on which search settings are chosen), in one invocation.  By default only KCYM (``--known KCYM,KCYMRHWST``
adds the other set; its oracle ceiling takes about 4 minutes a sample here): its error-free row is the one that
misses the target by a few reads on seed 0, and its row with errors cannot meet it on any sample (the Bayes
ceiling with errors in ``identification.json``).  Each row gives the identified fraction at
1 % FDR, the observed FDP at q <= 0.01, the oracle ceiling (:func:`identification.oracle_ceiling`) and their
ratio, against the issue's target of >= 0.9.  The summary gives each row's ratio over the seeds (median,
least, greatest) and on how many seeds it meets the target.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _provenance import ROOT, Clock, provenance, rel
from identification import DATA, N, once_per_peptides, oracle_ceiling

SEEDS = (0, 7, 8, 9)
TARGET = 0.9


def _rows(seeds, knowns):
    from protlm.io import iter_fasta
    from protlm.sequencing.error_model import ErrorModel
    from protlm.sequencing.evaluate import evaluate_identifications
    from protlm.sequencing.identify import identify_reads
    from protlm.sequencing.index import build_index
    from protlm.sequencing.simulate import simulate_reads

    fasta = DATA / "ecoli_k12_UP000000625.fasta"
    ecoli, index = list(iter_fasta(fasta)), build_index(fasta)
    rows = []
    for seed in seeds:
        picked = [ecoli[i] for i in np.random.default_rng(seed).choice(len(ecoli), N, replace=False)]
        for known in knowns:
            for errors in (ErrorModel(), ErrorModel.whatprot()):
                sim = simulate_reads(picked, known=known, efficiency=0.9, fragment="tryptic", min_length=6,
                                     errors=errors, seed=seed)
                t0 = time.perf_counter()
                ids = identify_reads(sim.reads, index, known=known, efficiency=0.9, digest="trypsin")
                seconds = time.perf_counter() - t0
                origins = {r.id: (o[0], t.replace("-", "")) for r, o, t in zip(sim.reads, sim.origins, sim.truths)}
                ev = evaluate_identifications(ids, origins, index)
                ceiling = once_per_peptides(oracle_ceiling, index, [t.replace("-", "") for t in sim.truths], known)
                ident = ev["identified_at_0.01"] / len(sim)
                ratio = ident / ceiling if ceiling else None
                rows.append({"seed": seed, "known": known, "errors": "none" if errors.is_error_free else "whatprot",
                             "n_reads": len(sim), "identified_at_1pct": round(ident, 4),
                             "observed_fdp_at_0.01": round(ev["fdp_at_0.01"], 4),
                             "oracle_ceiling": round(ceiling, 4),
                             "identified_over_ceiling": None if ratio is None else round(ratio, 3),
                             "target_met": ratio is not None and ratio >= TARGET,
                             "identify_seconds": round(seconds, 1)})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def _summary(rows, knowns):
    out = []
    for known in knowns:
        for errors in ("none", "whatprot"):
            r = [x["identified_over_ceiling"] for x in rows if x["known"] == known and x["errors"] == errors]
            out.append({"known": known, "errors": errors, "seeds": len(r), "ratio_median": round(float(np.median(r)), 3),
                        "ratio_least": min(r), "ratio_greatest": max(r),
                        "seeds_meeting_target": sum(v >= TARGET for v in r)})
    return out


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="comma-separated sample seeds")
    ap.add_argument("--known", default="KCYM", help="comma-separated known sets (KCYM, KCYMRHWST)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "identification_seeds.json"))
    args = ap.parse_args(argv)
    clock = Clock()
    knowns = args.known.split(",")
    rows = _rows([int(s) for s in args.seeds.split(",")], knowns)
    summary = _summary(rows, knowns)
    report = {**provenance(__file__, argv, clock), "data": [rel(DATA / "ecoli_k12_UP000000625.fasta")],
              "target": f"identified at 1 % FDR >= {TARGET} of the oracle ceiling", "rows": rows, "summary": summary}
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    cols = ["known", "errors", "seeds", "ratio_median", "ratio_least", "ratio_greatest", "seeds_meeting_target"]
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for s in summary:
        print("| " + " | ".join(str(s[c]) for c in cols) + " |")


if __name__ == "__main__":
    main()
