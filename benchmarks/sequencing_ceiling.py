"""How much can the known-residue pattern say about the hidden residues?  Count-based upper bounds.

The sequencing target (masked accuracy with KCYM at e = 1 on homology-held-out
proteins at least 1.5x the most-frequent-residue baseline) asks a predictor
to read the hidden ~88 % of a protein from where its K, C, Y and M sit.  This
script measures how much that pattern says, without any neural network:

for each family of features of a hidden position (all computable from the
read alone), the residue counts per feature value are taken from the
training proteins and the most probable allowed residue is predicted
(``train -> test``).  The same counts taken from the test proteins themselves
(``fit on test``) give the accuracy of the best possible predictor that uses
only that feature on that test set: an upper bound for the family, however
the predictor is built (in-sample, so optimistic).  The bound is reported
only where the test set holds at least ``--min-per-value`` hidden positions
per feature value on average; with more values than that, in-sample counts
memorise the test set instead of bounding anything.

Feature families (hidden position i of a read):

* ``flanks``: the nearest read letter on each side and its distance (capped
  at 8), or the terminus;
* ``gap``: the length of the run of X holding i (capped at 60) and i's
  distance to the nearer end of the run (capped at 10);
* ``termini``: distance to the N- and to the C-terminus (capped at 40);
* ``window``: how many of each read letter lie within 15 residues (each capped at 3);
* ``composition``: the read's K, C, Y, M fractions (binned);
* ``flanks+gap+composition``: the three together.

Proteins and split: ``../shared/data/proteomes``, split as the shipped model
was (recomputed from its metadata and checked against its digests), test
sets ``test`` (homology-held-out) and ``test_random``.

One command::

    python benchmarks/sequencing_ceiling.py

prints a table and writes ``benchmarks/results/sequencing_ceiling.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from _proteomes import RESULTS as _RESULTS_DIR, load_model_split  # noqa: E402
from _provenance import Clock, provenance  # noqa: E402

RESULTS = _RESULTS_DIR / "sequencing_ceiling.json"
FAMILIES = ("flanks", "gap", "termini", "window", "composition", "flanks+gap+composition")


def _features(idx: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, dict]:
    """Hidden positions of one protein (residue indices ``idx``) and their feature codes per family."""
    n = len(idx)
    read = known[np.maximum(idx, 0)] & (idx >= 0)  # e = 1: every known-type residue is read
    hidden = np.flatnonzero(~read & (idx >= 0))
    read_pos = np.flatnonzero(read)
    # letter codes of read letters: 0..k-1 in known-set order; k = terminus
    letters = np.flatnonzero(known)
    code_of = np.full(20, -1)
    code_of[letters] = np.arange(len(letters))
    k = len(letters)
    j = np.searchsorted(read_pos, hidden)  # read_pos[j-1] < i < read_pos[j]
    prev = np.where(j > 0, read_pos[np.maximum(j - 1, 0)], -1)
    nxt = np.where(j < len(read_pos), read_pos[np.minimum(j, len(read_pos) - 1)], n)
    prev_code = np.where(prev >= 0, code_of[idx[np.maximum(prev, 0)]], k)
    next_code = np.where(nxt < n, code_of[idx[np.minimum(nxt, n - 1)]], k)
    dp = np.minimum(hidden - prev, 8)
    dn = np.minimum(nxt - hidden, 8)
    gap = np.minimum(nxt - prev - 1, 60)
    inner = np.minimum(np.minimum(hidden - prev, nxt - hidden), 10)
    feats = {
        "flanks": ((prev_code * 9 + dp) * (k + 1) + next_code) * 9 + dn,
        "gap": gap * 11 + inner,
        "termini": np.minimum(hidden, 40) * 41 + np.minimum(n - 1 - hidden, 40),
    }
    win = np.zeros(len(hidden), dtype=np.int64)
    for c, a in enumerate(letters):
        cum = np.concatenate([[0], np.cumsum(idx == a)])
        cnt = cum[np.minimum(hidden + 16, n)] - cum[np.maximum(hidden - 15, 0)]
        win = win * 4 + np.minimum(cnt, 3)
    feats["window"] = win
    frac = [(idx == a).mean() for a in letters]
    comp = 0
    for f in frac:
        comp = comp * 6 + min(int(f / 0.012), 5)
    feats["composition"] = np.full(len(hidden), comp, dtype=np.int64)
    feats["flanks+gap+composition"] = (feats["flanks"] * 671 + feats["gap"]) * 6 ** k + comp
    return hidden, feats


def _collect(seqs, known):
    from protlm.models.alphabet import encode_residues

    truth, feats = [], {f: [] for f in FAMILIES}
    for s in seqs:
        idx = encode_residues(s)
        hidden, fs = _features(idx, known)
        truth.append(idx[hidden])
        for f in FAMILIES:
            feats[f].append(fs[f])
    return np.concatenate(truth), {f: np.concatenate(v) for f, v in feats.items()}


def _count_table(codes, truth):
    keys, inverse = np.unique(codes, return_inverse=True)
    table = np.zeros((len(keys), 20))
    np.add.at(table, (inverse, truth), 1)
    return keys, table


def _predict(keys, table, codes, fallback, min_count):
    pos = np.searchsorted(keys, codes)
    pos = np.minimum(pos, len(keys) - 1)
    found = keys[pos] == codes
    rows = table[pos]
    enough = found & (rows.sum(axis=1) >= min_count)
    return np.where(enough, rows.argmax(axis=1), fallback)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="weights whose split to use (default: the shipped model)")
    ap.add_argument("--known", default="KCYM")
    ap.add_argument("--min-count", type=int, default=30,
                    help="train -> test: feature values seen fewer times fall back to the most frequent residue")
    ap.add_argument("--min-per-value", type=int, default=100,
                    help="report the fit-on-test bound only with at least this many positions per feature value")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)

    from protlm.models.sequencer import load_sequencer
    from protlm.models.alphabet import AMINO_ACIDS, known_vector

    clock = Clock()
    _, meta = load_sequencer(args.model)
    ids, seqs, split = load_model_split(meta)
    known = known_vector(args.known).astype(bool)
    train_truth, train_feats = _collect([seqs[i] for i in split.indices("train")], known)
    freq = np.bincount(train_truth, minlength=20)
    most_frequent = int(freq.argmax())
    entries = []
    for split_name in ("test", "test_random"):
        truth, feats = _collect([seqs[i] for i in split.indices(split_name)], known)
        base = float((truth == most_frequent).mean())
        entries.append({"split": split_name, "features": "none (most frequent)", "train_to_test": base,
                        "fit_on_test": float(np.bincount(truth, minlength=20).max() / len(truth)),
                        "n_hidden": int(len(truth))})
        for fam in FAMILIES:
            keys, table = _count_table(train_feats[fam], train_truth)
            pred = _predict(keys, table, feats[fam], most_frequent, args.min_count)
            tkeys, ttable = _count_table(feats[fam], truth)
            bound = float(ttable.max(axis=1).sum() / len(truth)) if len(truth) >= args.min_per_value * len(tkeys) else None
            entries.append({"split": split_name, "features": fam,
                            "train_to_test": float((pred == truth).mean()), "fit_on_test": bound,
                            "n_feature_values_test": int(len(tkeys)), "n_hidden": int(len(truth))})
    print(f"\nKnown set {args.known}, e = 1; masked accuracy (most frequent residue: {AMINO_ACIDS[most_frequent]})\n")
    print("| split | features | train -> test | fit on test (upper bound) | vs baseline |")
    print("|---|---|---|---|---|")
    for e in entries:
        base = next(b["train_to_test"] for b in entries if b["split"] == e["split"] and b["features"].startswith("none"))
        bound = e["fit_on_test"]
        bound_text = "n/a (too many values)" if bound is None else f"{bound:.3f}"
        ratio_text = "-" if bound is None else f"{bound / base:.2f}x"
        print(f"| {e['split']} | {e['features']} | {e['train_to_test']:.3f} | {bound_text} | "
              f"{e['train_to_test'] / base:.2f}x / {ratio_text} |")
    out = {**provenance(__file__, argv, clock),
           "known": args.known, "efficiency": 1.0, "min_count": args.min_count, "min_per_value": args.min_per_value,
           "split": {k: meta["split"][k] for k in ("method", "seed", "counts") if k in meta["split"]},
           "entries": entries}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"\nwrote {args.out} ({out['wall_seconds']} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
