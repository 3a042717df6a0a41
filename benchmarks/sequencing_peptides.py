"""Peptide reads: does the model help on fragments, and does telling it the ends are not termini matter?

Protocol: 300 proteins of the homology-held-out ``test`` split (the split of
the first ``--model``, recomputed and checked against its digests; seed 0),
cut into tryptic peptides (at least 6 residues) and into one 30- and one
50-residue window each, read with KCYM at e = 1.  Per weights file: the model
as ``protlm sequence --peptides`` runs it (no terminus markers) and as it would
without ``--peptides`` (each peptide's ends shown as protein termini), against
the most frequent allowed residue of the training split.

One command (the README's comparison: stage 1 of the shipped model's
training, then the shipped model)::

    python benchmarks/sequencing_peptides.py --model runs/sequencer/best.pt --model default

prints a table and writes ``benchmarks/results/sequencing_peptides.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from _proteomes import RESULTS as _RESULTS_DIR, load_model_split  # noqa: E402
from _provenance import Clock, provenance, rel  # noqa: E402

RESULTS = _RESULTS_DIR / "sequencing_peptides.json"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", default=None,
                    help="weights to compare (repeatable; 'default' = the shipped model)")
    ap.add_argument("--n-proteins", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)

    import torch

    from protlm.sequencing.backends import FrequencyBackend, ModelBackend, residue_frequencies
    from protlm.sequencing.evaluate import evaluate_prediction
    from protlm.sequencing.predictor import predict_reads
    from protlm.sequencing.simulate import simulate_reads

    torch.set_num_threads(args.threads)
    clock = Clock()
    models = [None if m == "default" else m for m in (args.model or ["default"])]
    backends = [ModelBackend.from_weights(m, device="cpu") for m in models]
    ids, seqs, split = load_model_split(backends[0].metadata)
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(split.indices("test"), size=min(args.n_proteins, len(split.indices("test"))), replace=False)
    recs = [(ids[i], seqs[i]) for i in pick]
    baseline = FrequencyBackend(residue_frequencies([seqs[i] for i in split.indices("train")]))
    entries = []
    for fragment in ("tryptic", 30, 50):
        sim = simulate_reads(recs, known="KCYM", seed=args.seed, fragment=fragment, min_length=6)
        truth = dict(zip((r.id for r in sim.reads), sim.truths))
        runs = [("most-frequent", None, baseline, False)]
        for m, be in zip(args.model or ["default"], backends):
            runs += [(m, "--peptides", be, False), (m, "ends shown as termini", be, True)]
        for name, mode, be, termini in runs:
            ev = evaluate_prediction(predict_reads(sim.reads, known="KCYM", backend=be, termini=termini), truth)
            entries.append({"reads": str(fragment), "weights": name if name == "default" else rel(name), "mode": mode, "accuracy_masked": ev.accuracy_masked,
                            "log_loss_masked": ev.log_loss_masked, "n_masked": ev.n_masked, "n_reads": ev.n_reads})
    print("| peptides | weights | as | masked accuracy | log loss (nats) |\n|---|---|---|---|---|")
    for e in entries:
        print(f"| {e['reads']} | {e['weights']} | {e['mode'] or '-'} | {e['accuracy_masked']:.4f} | "
              f"{e['log_loss_masked']:.3f} |")
    out = {**provenance(__file__, argv, clock),
           "n_proteins": len(recs), "known": "KCYM", "efficiency": 1.0, "entries": entries}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"\nwrote {args.out} ({out['wall_seconds']} s)")


if __name__ == "__main__":
    main()
