"""protlm and Whatprot (marcottelab/whatprot) on the same simulated fluorosequencing reads (issue 19, item 6).

Same information: protlm simulates the reads once (tryptic peptides of E. coli proteins, KCYM,
e = 0.9, 30 Edman cycles, with or without Whatprot-like errors), and each read is written also as
a Whatprot radiometry, *letter-equivalent*: one channel per labelled residue type, and at timestep
t (t = 0 .. 30, before the t-th Edman cycle's removal) the intensity in channel c is the number of
the read's c letters at read positions >= t, noise-free (mu = 1).  A missed detection (an X over a
K/C/Y/M) is then a dud dye, an Edman failure a cycle that removes nothing, and the radiometry holds
exactly the read's letters and their cycles.  (Whatprot simulating its own radiometries would give
it other molecules and other truth; running it with zero error rates would tell it less than
protlm is told.)  Both tools are told the simulation's rates: protlm's identification gets its
``ErrorModel``, Whatprot's sequencing-parameter file ``p_edman_failure`` and ``p_dud = 1 - e``
(detach, blocking and bleaching 0; the intensity model ``sig/mu = 0.16``, ``bg_sig/mu = 0.00667``
of Whatprot's example parameters).  protlm's false detections have no Whatprot counterpart.

What each tool knows beyond the letters: Whatprot classifies against the tryptic digest (dye-seqs
of every tryptic peptide >= 6 residues of the reference proteins, truncated to the 30 cycles read),
so it knows the cleavage; protlm searches every window of the proteins, and its reads end where the
peptide (or cycle 30) ends, so it knows the read's length.  The ``protlm, letters only`` rows strip
each read after its last letter, which leaves protlm less than the radiometry holds.  The ``protlm, trypsin
digest`` rows search with ``digest="trypsin"`` (reads placed only where tryptic peptides start), so protlm
knows the cleavage as Whatprot does; with ``letters only`` as well, it is told neither the read's length
nor, unlike Whatprot's radiometry, the letters beyond cycle 30.

Correct, for both: the named protein is the read's own or holds the read's residues (Whatprot names
the lowest-numbered peptide of its dye-seq, as its output does).  Ceilings: protlm's oracle ceiling
(the read's error-free label pattern occurs in the proteins only over its own residues) and the
digest ceiling (its dye string belongs to no other peptide sequence of the digest).  Whatprot has no
decoys, so it has no "identified at 1 % FDR"; for both tools ``oracle_threshold_identified_at_1pct``
uses the truth: the most reads, taken by each tool's score, whose false fraction is <= 1 %.
(protlm's target-decoy q-values cannot reach 1 % among a few hundred reads unless more than 100
correct reads outscore every decoy winner: ``q >= 1 / targets``.)  Both run on one thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

#: Whatprot's hybrid-classifier settings recommended in its README.
HYBRID = {"k": 10000, "s": 0.5, "H": 1000, "p": 5}
CYCLES = 30


def build_info(binary) -> dict:
    """Commit, local changes (the build-flag edit) and sha256 of a Whatprot binary built in a git checkout."""
    binary = Path(binary).resolve()
    root = subprocess.run(["git", "-C", str(binary.parent), "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, check=True).stdout.strip()
    commit = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    diff = subprocess.run(["git", "-C", root, "diff", "-U0", "--", "cc_code/makefile"], capture_output=True,
                          text=True, check=True).stdout
    changed = [ln[1:] for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return {"repository": "github.com/marcottelab/whatprot", "commit": commit, "build": "make release (-O2 -flto)",
            "makefile_changes": changed, "binary_sha256": hashlib.sha256(binary.read_bytes()).hexdigest()}


def dye_string(peptide: str, known: str, cycles: int = CYCLES) -> str:
    """Whatprot dye string of the first ``cycles`` residues: channel digit or '.', trailing dots dropped."""
    return "".join(str(known.index(a)) if a in known else "." for a in peptide[:cycles]).rstrip(".")


def radiometry(read: str, known: str, timesteps: int) -> list:
    """Letter-equivalent intensities, timestep-major (t0c0, t0c1, ...): letters of each channel at positions >= t."""
    out = np.zeros((timesteps, len(known)))
    for p, a in enumerate(read):
        if a in known:
            out[: min(p + 1, timesteps), known.index(a)] += 1
    return out.ravel().tolist()


def _params(errors, efficiency, known) -> dict:
    chan = {"p_bleach": 0.0, "p_dud": round(1.0 - efficiency, 12), "bg_sig": 0.00667, "mu": 1.0, "sig": 0.16}
    return {"p_edman_failure": errors.edman_failure, "p_detach": 0.0, "p_initial_detach": 0.0,
            "p_initial_detach_decay": 0.0, "p_initial_block": 0.0, "p_cyclic_block": 0.0,
            "channel_models": [dict(chan) for _ in known]}


def _digest(proteins, known, cycles):
    """Dye-seqs of the tryptic digest: {dye string: [(peptide[:cycles], protein id), ...]} in peptide order."""
    from protlm.sequencing.simulate import fragment_sequence

    groups = {}
    for rec in proteins:
        seq = rec.sequence.upper()
        for a, b in fragment_sequence(seq, "tryptic", min_length=1):
            if b - a < 6:
                continue
            ds = dye_string(seq[a:b], known, cycles)
            if ds:  # a peptide with no dye in the cycles read is never seen
                groups.setdefault(ds, []).append((seq[a:b][:cycles], rec.id))
    return groups


def _fdr_oracle(scores, right, fdr=0.01) -> int:
    """Most reads taken by decreasing score whose false fraction (by the truth) is <= fdr."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    wrong = np.cumsum(~np.asarray(right)[order])
    ok = np.flatnonzero(wrong <= fdr * np.arange(1, len(order) + 1))
    return int(ok[-1] + 1) if len(ok) else 0


def compare(binary, proteins, *, name, errors, n_reads, ceiling, known="KCYM", efficiency=0.9, generate=1000,
            seed=0) -> list:
    """protlm (full reads and letters only) and Whatprot's hybrid classifier on the same reads: one row each.

    ``proteins`` are both the reads' source and the reference; ``ceiling(index, truths, known)`` is the
    benchmark's oracle ceiling; ``generate`` the dye-tracks Whatprot simulates per peptide (its ``-g``).
    """
    import io

    import numba

    from protlm.sequencing.error_model import ErrorModel
    from protlm.sequencing.evaluate import evaluate_identifications
    from protlm.sequencing.identify import identify_reads
    from protlm.sequencing.index import build_index
    from protlm.sequencing.simulate import simulate_reads

    errors = ErrorModel(edman_failure=errors.edman_failure, false_detection=errors.false_detection, cycles=CYCLES)
    sim = simulate_reads(proteins, known=known, efficiency=efficiency, fragment="tryptic", min_length=6,
                         errors=errors, seed=seed)
    seen = [j for j, r in enumerate(sim.reads) if any(a in known for a in r.read)]  # no letter: nothing to see
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(seen, min(n_reads, len(seen)), replace=False).tolist())
    reads = [sim.reads[j] for j in pick]
    truths = [sim.truths[j].replace("-", "") for j in pick]
    origins = {r.id: (sim.origins[j][0], t) for r, j, t in zip(reads, pick, truths)}
    index = build_index(io.StringIO("".join(f">{r.id}\n{r.sequence}\n" for r in proteins)))
    search = ErrorModel(edman_failure=errors.edman_failure, false_detection=errors.false_detection)
    oracle = ceiling(index, truths, known)
    groups = _digest(proteins, known, CYCLES)
    seqs = {r.id: r.sequence.upper() for r in proteins}
    peptides = []  # each read's error-free peptide ("ID/START-END" ids)
    for r, j in zip(reads, pick):
        a, b = (int(v) for v in r.id.rsplit("/", 1)[1].split("-"))
        peptides.append(seqs[sim.origins[j][0]][a - 1: b])
    digest_ceiling = np.mean([{q for q, _ in groups.get(dye_string(p, known), [])} == {p[:CYCLES]} for p in peptides])
    common = {"reference": name, "reference_proteins": len(proteins), "reads": "tryptic", "known": known,
              "cycles": CYCLES, "efficiency": efficiency,
              "errors": "none" if errors.edman_failure == 0 and errors.false_detection == 0 else "whatprot",
              "n_reads": len(reads), "reads_without_letters_dropped": len(sim.reads) - len(seen),
              "threads": 1, "oracle_ceiling": round(float(oracle), 4), "digest_ceiling": round(float(digest_ceiling), 4)}
    rows = []
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        identify_reads([(r.id, r.read) for r in reads[:5]], index, known=known, efficiency=efficiency, errors=search)
        full = [(r.id, r.read) for r in reads]
        letters = [(r.id, r.read[: max(i for i, a in enumerate(r.read) if a in known) + 1]) for r in reads]
        for label, rr, digest in (("protlm", full, None), ("protlm, letters only", letters, None),
                                  ("protlm, trypsin digest", full, "trypsin"),
                                  ("protlm, trypsin digest, letters only", letters, "trypsin")):
            t0 = time.perf_counter()
            ids = identify_reads(rr, index, known=known, efficiency=efficiency, errors=search, digest=digest)
            sec = time.perf_counter() - t0
            ev = evaluate_identifications(ids, origins, index)
            right = np.array([(not d) and p >= 0 and (pid == origins[rid][0] or origins[rid][1] in index.sequence(int(p)))
                              for rid, pid, p, d in zip(ids.read_ids, ids.protein_ids, ids.protein, ids.decoy)])
            k = _fdr_oracle(np.where(np.isnan(ids.score), -np.inf, ids.score), right)
            rows.append({**common, "tool": label, "top1_accuracy": round(float(right.mean()), 4),
                         "identified_at_1pct": round(ev["identified_at_0.01"] / len(reads), 4),
                         "correct_at_1pct": round((ev["identified_at_0.01"] - ev["false_at_0.01"]) / len(reads), 4),
                         "observed_fdp_at_0.01": round(ev["fdp_at_0.01"], 4), "fdr_from": "target-decoy q-values",
                         "oracle_threshold_identified_at_1pct": round(k / len(reads), 4),
                         "reads_per_second": round(len(reads) / sec, 1), "seconds": round(sec, 2),
                         "digest": digest})
    finally:
        numba.set_num_threads(before)
    rows.append({**common, **_run_whatprot(binary, reads, origins, groups, errors=errors, efficiency=efficiency,
                                           known=known, generate=generate, index=index, proteins=proteins)})
    for r in rows:
        for c in ("oracle_ceiling", "digest_ceiling"):
            r[f"top1_over_{c}"] = round(r["top1_accuracy"] / r[c], 3) if r[c] else None
    return rows


def _run_whatprot(binary, reads, origins, groups, *, errors, efficiency, known, generate, index, proteins) -> dict:
    """Whatprot ``simulate dt`` + ``classify hybrid`` on the reads' radiometries (one thread); its row."""
    seqs = {r.id: r.sequence.upper() for r in proteins}
    names = list(groups)
    binary = Path(binary).resolve()  # it runs in a temp folder
    env = dict(os.environ, OMP_NUM_THREADS="1")
    T = CYCLES + 1
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "params.json").write_text(json.dumps(_params(errors, efficiency, known)))
        with open(tmp / "dye-seqs.tsv", "w") as fh:
            fh.write(f"{len(known)}\n{len(names)}\n")
            for i, ds in enumerate(names):
                fh.write(f"{ds}\t{len(groups[ds])}\t{i}\n")
        with open(tmp / "radiometries.tsv", "w") as fh:
            fh.write(f"{T}\n{len(known)}\n{len(reads)}\n")
            for r in reads:
                fh.write("\t".join(f"{v:.1f}" for v in radiometry(r.read, known, T)) + "\n")
        t0 = time.perf_counter()
        subprocess.run([str(binary), "simulate", "dt", "-t", str(T), "-g", str(generate), "-P", "params.json",
                        "-S", "dye-seqs.tsv", "-T", "dye-tracks.tsv"], cwd=tmp, env=env, check=True,
                       capture_output=True)
        t_dt = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([str(binary), "classify", "hybrid", "-k", str(HYBRID["k"]), "-s", str(HYBRID["s"]),
                        "-H", str(HYBRID["H"]), "-p", str(HYBRID["p"]), "-P", "params.json", "-S", "dye-seqs.tsv",
                        "-T", "dye-tracks.tsv", "-R", "radiometries.tsv", "-Y", "predictions.csv"], cwd=tmp, env=env,
                       check=True, capture_output=True)
        t_cl = time.perf_counter() - t0
        pred = np.loadtxt(tmp / "predictions.csv", delimiter=",", skiprows=1, ndmin=2)
    order = np.argsort(pred[:, 0])
    best, score = pred[order, 1].astype(int), pred[order, 2]
    right = np.zeros(len(reads), dtype=bool)
    for j, r in enumerate(reads):
        pep, prot = groups[names[best[j]]][0]  # Whatprot names a dye-seq by its lowest-numbered peptide
        true_prot, true_res = origins[r.id]
        right[j] = prot == true_prot or true_res in seqs[prot]
    k = _fdr_oracle(score, right)
    return {"tool": "whatprot hybrid", "top1_accuracy": round(float(right.mean()), 4),
            "identified_at_1pct": None, "correct_at_1pct": None, "observed_fdp_at_0.01": None,
            "fdr_from": "none (no decoys)", "oracle_threshold_identified_at_1pct": round(k / len(reads), 4),
            "reads_per_second": round(len(reads) / t_cl, 1), "seconds": round(t_cl, 2),
            "dye_track_simulation_seconds": round(t_dt, 2), "dye_seqs": len(names),
            "whatprot_options": {"simulate dt -g": generate, "classify hybrid": HYBRID,
                                 "params": _params(errors, efficiency, known)}}
