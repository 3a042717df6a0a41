"""Reference-guided sequencing benchmark: the hybrid (reference hits + model) against the model alone.

Claims under test (issue "reference-guided sequencing"):

(a) reads from E. coli K-12 proteins, the E. coli proteome as reference
    (the paper's same-species situation; it reports 73.5 % masked accuracy
    with KCYM): at least 95 % masked accuracy with KCYM at e = 0.9 for reads
    of at least 30 residues;
(b) reads from homology-held-out proteins (the ``test`` split of the
    model's k-mer homology split, reproduced from its metadata and checked
    against the recorded digests, so the model never trained on them or
    their cluster), taken from the 20k UniProt sample, with that sample as
    reference after removing the protein itself and every sequence sharing
    at least half of its 5-mers (near-identical copies, strain variants):
    clearly above the model alone;
(c) detection efficiencies 1.0, 0.9, 0.8; (d) whole proteins and
    30-residue peptides (one random window per protein), plus 50- and
    100-residue peptides for (a) at e = 0.9;
speed: 1,000 reads against the 20k sample in under 30 s, the index build
reported separately.

Methods, all through the same constrained decoding:

* ``most-frequent``: the most frequent allowed residue (no context);
* ``model``: the predictor alone (shipped default, or ``--model``);
* ``hybrid``: model x reference factors (``protlm sequence --reference``);
* ``reference+most-frequent``: the reference factors over the context-free
  baseline, to show what the reference alone contributes.

Reads are simulated here (seeded): a known-type residue is shown with
probability e, every other position is ``X``.  ``accuracy_masked`` is pooled
over all ``X`` positions.

One command::

    python benchmarks/sequencing_reference.py

prints a table and writes ``benchmarks/results/sequencing_reference.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _provenance import ROOT, Clock, provenance, rel  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "proteomes"
ECOLI = DATA / "ecoli_k12_UP000000625.fasta"
SAMPLE = DATA / "uniprot_sample_20k.fasta.gz"
RESULTS = ROOT / "benchmarks" / "results" / "sequencing_reference.json"
KNOWN = "KCYM"
EFFICIENCIES = (1.0, 0.9, 0.8)
PEPTIDE = 30


def simulate(sequences, *, efficiency, length, seed, known=KNOWN):
    """Partial reads (and their truth) from full sequences: whole proteins or one random window each."""
    from protlm.sequencing.reads import PartialRead

    rng = np.random.default_rng(seed)
    reads, truth = [], []
    kset = set(known)
    for i, seq in enumerate(sequences):
        if length is not None:
            if len(seq) < length:
                continue
            start = int(rng.integers(0, len(seq) - length + 1))
            seq = seq[start: start + length]
        shown = rng.random(len(seq)) < efficiency
        read = "".join(a if (a in kset and s) else "X" for a, s in zip(seq, shown))
        reads.append(PartialRead(f"r{i}", read))
        truth.append(seq)
    return reads, truth


def masked_accuracy(pred, truth):
    letters = np.frombuffer("".join(pred.sequences).encode(), dtype=np.uint8)
    true = np.frombuffer("".join(truth).encode(), dtype=np.uint8)
    unknown = pred.unknown_mask()
    return float((letters[unknown] == true[unknown]).mean()), int(unknown.sum())


def hybrid_probabilities(pred, prior):
    """Model distribution x reference factors, renormalised (exactly predict_reads(prior=...) without refinement)."""
    probs = pred.probabilities.astype(np.float64).copy()
    for i, f in enumerate(prior.factors):
        if f is None:
            continue
        sl = slice(int(pred.offsets[i]), int(pred.offsets[i + 1]))
        unknown = np.frombuffer(pred.reads[i].encode(), dtype=np.uint8) == ord("X")
        p = probs[sl][unknown] * f[unknown]
        probs[sl][unknown] = p / p.sum(axis=1, keepdims=True)
    return probs


def with_probabilities(pred, probs):
    from dataclasses import replace

    from protlm.models.alphabet import AMINO_ACIDS

    letters = np.array(list(AMINO_ACIDS))[probs.argmax(axis=1)]
    seqs = tuple("".join(letters[pred.offsets[i]: pred.offsets[i + 1]]) for i in range(len(pred)))
    return replace(pred, probabilities=probs.astype(np.float32), sequences=seqs)


def kmer_codes(seq, k=5):
    from protlm.models.alphabet import encode_residues

    idx = encode_residues(seq)
    if len(idx) < k:
        return np.zeros(0, dtype=np.int64)
    win = np.lib.stride_tricks.sliding_window_view(idx, k)
    win = win[(win >= 0).all(axis=1)]
    return np.unique((win * (20 ** np.arange(k))).sum(axis=1))


def near_identical(queries, references, *, min_shared=0.5):
    """Indices of references sharing at least ``min_shared`` of some query's 5-mers."""
    codes, owner = [], []
    for j, s in enumerate(references):
        c = kmer_codes(s)
        codes.append(c)
        owner.append(np.full(len(c), j, dtype=np.int64))
    codes, owner = np.concatenate(codes), np.concatenate(owner)
    order = np.argsort(codes, kind="stable")
    codes, owner = codes[order], owner[order]
    drop = set()
    for q in queries:
        qc = kmer_codes(q)
        if len(qc) == 0:
            continue
        lo, hi = np.searchsorted(codes, qc, "left"), np.searchsorted(codes, qc, "right")
        hits = np.concatenate([owner[a:b] for a, b in zip(lo, hi)]) if len(qc) else np.zeros(0, np.int64)
        counts = np.bincount(hits, minlength=len(references))
        drop.update(np.flatnonzero(counts >= min_shared * len(qc)).tolist())
    return drop


def build_reference_index(records):
    from protlm.sequencing.index import build_index

    text = "".join(f">{r.id}\n{r.sequence}\n" for r in records)
    return build_index(io.StringIO(text))


def evaluate_config(rows, *, dataset, reference_name, index, backend, freq_backend, proteins, efficiency, length,
                    seed, threads, esm2_backend=None):
    from protlm.sequencing.hybrid import attribute_sources, reference_prior
    from protlm.sequencing.predictor import predict_reads
    from protlm.sequencing.reference import search_reads

    reads, truth = simulate(proteins, efficiency=efficiency, length=length, seed=seed)
    read_type = "protein" if length is None else f"peptide{length}"
    base = {"dataset": dataset, "reference": reference_name, "known": KNOWN, "efficiency": efficiency,
            "read_type": read_type, "n_reads": len(reads)}
    t0 = time.perf_counter()
    hits = search_reads(reads, index, known=KNOWN, efficiency=efficiency)
    prior = reference_prior(reads, hits, index)
    t_search = time.perf_counter() - t0
    summary = hits.summary()
    t0 = time.perf_counter()
    termini = length is None  # peptides' ends are not their proteins' termini (protlm sequence --peptides)
    model_pred = predict_reads(reads, known=KNOWN, backend=backend, efficiency=efficiency, termini=termini)
    t_model = time.perf_counter() - t0
    freq_pred = predict_reads(reads, known=KNOWN, backend=freq_backend, efficiency=efficiency, termini=termini)
    hybrid_pred = with_probabilities(model_pred, hybrid_probabilities(model_pred, prior))
    # the shortcut above is predict_reads(prior=...): check it on a few reads
    few = 12
    direct = predict_reads(reads[:few], known=KNOWN, backend=backend, efficiency=efficiency, prior=prior.factors[:few],
                           termini=termini)
    rows_few = int(direct.offsets[-1])
    if not np.allclose(direct.probabilities, hybrid_pred.probabilities[:rows_few], atol=1e-4):
        raise AssertionError("hybrid shortcut differs from predict_reads(prior=...)")
    ref_only = with_probabilities(freq_pred, hybrid_probabilities(freq_pred, prior))
    labels, _ = attribute_sources(hybrid_pred.probabilities, prior, reads, offsets=hybrid_pred.offsets)
    unknown = hybrid_pred.unknown_mask()
    letters = np.frombuffer("".join(hybrid_pred.sequences).encode(), dtype=np.uint8)
    true = np.frombuffer("".join(truth).encode(), dtype=np.uint8)
    by_source = {}
    for src in ("reference", "hybrid", "model"):
        sel = unknown & (labels == src)
        by_source[src] = {"fraction": round(float(sel.sum() / max(unknown.sum(), 1)), 4),
                          "accuracy": round(float((letters[sel] == true[sel]).mean()), 4) if sel.any() else None}
    methods = [("most-frequent", freq_pred), ("model", model_pred), ("hybrid", hybrid_pred),
               ("reference+most-frequent", ref_only)]
    if esm2_backend is not None:
        esm_pred = predict_reads(reads, known=KNOWN, backend=esm2_backend, efficiency=efficiency, termini=termini)
        methods += [(esm2_backend.name, esm_pred),
                    (f"hybrid-{esm2_backend.name}", with_probabilities(esm_pred, hybrid_probabilities(esm_pred, prior)))]
    for method, pred in methods:
        acc, n_masked = masked_accuracy(pred, truth)
        row = {**base, "method": method, "accuracy_masked": round(acc, 4), "n_masked": n_masked}
        if method == "hybrid":
            row.update(reads_with_hits=summary["reads_with_hits"],
                       reads_with_confident_match=summary["reads_with_confident_match"],
                       reads_skipped_uninformative=summary["reads_skipped_uninformative"],
                       positions_by_source=by_source, search_seconds=round(t_search, 2))
        if method == "model":
            row["predict_seconds"] = round(t_model, 2)
        rows.append(row)
    return rows


def speed(index, proteins, *, n_reads, seed):
    from protlm.sequencing.reference import search_reads
    from protlm.sequencing.seeds import seed_table

    out = []
    t0 = time.perf_counter()
    seed_table(index, KNOWN)
    t_seeds = time.perf_counter() - t0
    for length in (None, PEPTIDE):
        rng = np.random.default_rng(seed)
        picks = [proteins[i] for i in rng.choice(len(proteins), size=min(n_reads * 2, len(proteins)), replace=False)]
        reads, _ = simulate(picks, efficiency=0.9, length=length, seed=seed)
        reads = reads[:n_reads]
        t0, c0 = time.perf_counter(), time.process_time()
        hits = search_reads(reads, index, known=KNOWN, efficiency=0.9)
        t, cpu = time.perf_counter() - t0, time.process_time() - c0
        out.append({"read_type": "protein" if length is None else f"peptide{length}", "n_reads": len(reads),
                    "residues": int(sum(len(r) for r in reads)), "search_seconds": round(t, 2),
                    "search_cpu_seconds": round(cpu, 2),
                    "reads_per_second": round(len(reads) / t, 1), "seed_table_seconds": round(t_seeds, 2),
                    "reads_with_hits": hits.summary()["reads_with_hits"]})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="sequencer weights (default: the shipped model)")
    ap.add_argument("--n-reads", type=int, default=400, help="proteins per accuracy configuration")
    ap.add_argument("--n-speed", type=int, default=1000, help="reads in the speed test")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--extra-lengths", type=lambda v: [int(x) for x in v.split(",") if x], default=[50, 100],
                    help="extra E. coli peptide lengths at e = 0.9 (comma-separated)")
    ap.add_argument("--esm2", default=None, metavar="NAME",
                    help="also ESM-2 zero-shot rows, e.g. esm2_t6_8M_UR50D (weights through the resolver; no download)")
    ap.add_argument("--esm2-weights", default=None, metavar="PATH")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from protlm.io import read_fasta
    from protlm.models.sequencer import resolve_sequencer_weights
    from protlm.sequencing.backends import FrequencyBackend, ModelBackend, residue_frequencies
    from protlm.sequencing.index import build_index
    from protlm.sequencing.proteins import load_proteins
    from protlm.sequencing.split import reproduce_split, split_sequences

    started = time.perf_counter()
    clock = Clock()
    weights = resolve_sequencer_weights(args.model)
    backend = ModelBackend.from_weights(weights, device="cpu")
    esm2_backend, esm2_note = None, None
    if args.esm2:
        from protlm.errors import WeightsNotFoundError
        from protlm.models.esm2 import load_esm2_sequencer
        from protlm.models.weights import resolve_weights

        try:
            resolved = resolve_weights(args.esm2, path=args.esm2_weights, download=False)
        except WeightsNotFoundError as exc:
            esm2_note = f"ESM-2 rows skipped: {exc}"
            print(esm2_note)
        else:
            esm2_backend = ModelBackend(load_esm2_sequencer(args.esm2, weights=resolved), name=args.esm2)
    load_avg = os.getloadavg()

    # -- index builds and speed ------------------------------------------------------------------
    t0 = time.perf_counter()
    sample_index = build_index(SAMPLE)
    t_sample_index = time.perf_counter() - t0
    t0 = time.perf_counter()
    ecoli_index = build_index(ECOLI)
    t_ecoli_index = time.perf_counter() - t0
    sample_records = read_fasta(SAMPLE)
    speed_rows = speed(sample_index, [r.sequence for r in sample_records], n_reads=args.n_speed, seed=args.seed)
    for r in speed_rows:
        r.update(reference="uniprot_sample_20k", index_build_seconds=round(t_sample_index, 2))

    # -- (a) E. coli reads, E. coli proteome as reference -----------------------------------------
    ecoli_records = read_fasta(ECOLI)
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(ecoli_records), size=args.n_reads, replace=False)
    ecoli_proteins = [ecoli_records[i].sequence for i in picks]
    freq_backend = FrequencyBackend(residue_frequencies(r.sequence for r in ecoli_records))
    rows = []
    for eff in EFFICIENCIES:
        for length in (None, PEPTIDE):
            evaluate_config(rows, dataset="ecoli-same-species", reference_name="ecoli_k12_proteome", index=ecoli_index,
                            backend=backend, freq_backend=freq_backend, proteins=ecoli_proteins, efficiency=eff,
                            length=length, seed=args.seed + 1, threads=args.threads, esm2_backend=esm2_backend)
            print(f"[{time.perf_counter() - started:6.0f} s] ecoli e={eff} {length or 'protein'} done", flush=True)
    # where does the same-species case reach 95 %?  longer peptides at e = 0.9
    for length in args.extra_lengths:
        evaluate_config(rows, dataset="ecoli-same-species", reference_name="ecoli_k12_proteome", index=ecoli_index,
                        backend=backend, freq_backend=freq_backend, proteins=ecoli_proteins, efficiency=0.9,
                        length=length, seed=args.seed + 1, threads=args.threads)

    # -- (b) homology-held-out proteins, 20k sample minus near-identical as reference -------------
    ids, seqs, _ = load_proteins([ECOLI, SAMPLE])
    if backend.metadata.get("split"):  # the model's own split, checked against its recorded digests
        split = reproduce_split(ids, seqs, backend.metadata["split"])
        split_source = "reproduced from the model's metadata (digests checked)"
    else:
        split = split_sequences(ids, seqs, seed=0, method="kmer")
        split_source = "recomputed with train-sequencer's defaults (the model records no split)"
    sample_ids = {r.id for r in sample_records}
    test = [i for i in split.indices("test") if ids[i] in sample_ids]
    rng = np.random.default_rng(args.seed + 2)
    chosen = [seqs[i] for i in rng.choice(test, size=min(args.n_reads, len(test)), replace=False)]
    drop = near_identical(chosen, [r.sequence for r in sample_records])
    reduced = [r for j, r in enumerate(sample_records) if j not in drop]
    held_index = build_reference_index(reduced)
    sample_freq = FrequencyBackend(residue_frequencies(r.sequence for r in reduced))
    for eff in EFFICIENCIES:
        for length in (None, PEPTIDE):
            evaluate_config(rows, dataset="heldout-homologs", reference_name=f"uniprot_sample_20k minus {len(drop)} near-identical",
                            index=held_index, backend=backend, freq_backend=sample_freq, proteins=chosen,
                            efficiency=eff, length=length, seed=args.seed + 3, threads=args.threads, esm2_backend=esm2_backend)
            print(f"[{time.perf_counter() - started:6.0f} s] held-out e={eff} {length or 'protein'} done", flush=True)

    meta = backend.metadata
    result = {
        **provenance(__file__, argv, clock, load_average_at_start=[round(x, 2) for x in load_avg]),
        "model": {"path": rel(weights), **{k: meta.get(k) for k in ("step", "valid_loss", "valid_accuracy_kcym")}},
        "split": {"source": split_source, "test_digest": split.digest("test"),
                  "model_test_digest": ((meta.get("split") or {}).get("digests") or {}).get("test")},
        "heldout": {"test_proteins_in_sample": len(test), "chosen": len(chosen), "removed_near_identical": len(drop)},
        "index_build_seconds": {"uniprot_sample_20k": round(t_sample_index, 2), "ecoli_k12": round(t_ecoli_index, 2)},
        "esm2": esm2_note or args.esm2,
        "speed": speed_rows,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    print(f"\nindex build: 20k sample {t_sample_index:.1f} s, E. coli {t_ecoli_index:.1f} s "
          f"(load average {load_avg[0]:.1f} on {os.cpu_count()} CPUs)")
    for r in speed_rows:
        print(f"speed: {r['n_reads']} {r['read_type']} reads vs 20k sample: {r['search_seconds']} s "
              f"({r['search_cpu_seconds']} s CPU) "
              f"(+ seed table {r['seed_table_seconds']} s once per known set); {r['reads_with_hits']} with hits")
    print(f"\n{'dataset':<20} {'e':>4} {'reads':<10} {'most-freq':>9} {'model':>7} {'hybrid':>7} {'ref+mf':>7}  "
          f"{'hits':>5} {'ref/hyb/model positions':>24}")
    table = {}
    for r in rows:
        table.setdefault((r["dataset"], r["efficiency"], r["read_type"]), {})[r["method"]] = r
    for (ds, eff, rt), m in table.items():
        h = m["hybrid"]
        src = h["positions_by_source"]
        print(f"{ds:<20} {eff:>4} {rt:<10} {m['most-frequent']['accuracy_masked']:>9.3f} {m['model']['accuracy_masked']:>7.3f} "
              f"{h['accuracy_masked']:>7.3f} {m['reference+most-frequent']['accuracy_masked']:>7.3f}  "
              f"{h['reads_with_hits']:>5} {src['reference']['fraction']:>8.2f}/{src['hybrid']['fraction']:.2f}/{src['model']['fraction']:.2f}")
        extra = {k: v["accuracy_masked"] for k, v in m.items() if k.startswith(("esm2", "hybrid-esm2"))}
        if extra:
            print(" " * 30 + "  ".join(f"{k} {v:.3f}" for k, v in extra.items()))
    print(f"\nwrote {args.out} in {result['wall_seconds']} s")


if __name__ == "__main__":
    main()
