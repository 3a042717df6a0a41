"""Identification at 1 % FDR (issue 19): identified fraction, observed FDR, oracle ceiling and throughput.

    python benchmarks/identification.py            # writes benchmarks/results/identification.{json,md}
    python benchmarks/identification.py --whatprot WHATPROT_BIN --only-whatprot \
        --out benchmarks/results/identification_whatprot.json   # protlm and Whatprot on the same reads
                                                                 # (and identification_whatprot.md)

``--whatprot BIN`` (a ``make release`` build in a git checkout of marcottelab/whatprot) adds the
comparison of :mod:`_whatprot` (protlm and Whatprot's hybrid classifier on the same letter-equivalent
tryptic reads of a 100-protein E. coli subset and of the whole proteome, one thread each; Whatprot's
commit and build flags recorded); ``--only-whatprot`` runs only that; ``--out`` names the JSON (the
table goes beside it, ``.md``).

Reads (e = 0.9): whole proteins and tryptic peptides (>= 6 residues), KCYM and KCYMRHWST, without errors and
with Whatprot-like errors (``ErrorModel.whatprot()``: Edman failure 0.06, false detection 0.01).
References: (a) the E. coli proteome, reads of 400 of its proteins; (b) 400 proteins of the 20k UniProt
sample searched against the rest of the sample without them and their near-identical relatives (>= 50 % of
5-mers shared), so no read's protein is in the reference.  The oracle ceiling is the fraction of reads
whose error-free label pattern (every known-type residue shown) occurs in the reference only in windows
holding the read's own residues.  Tryptic reads are searched with ``digest="trypsin"`` (placed only where
tryptic peptides start); the same reads searched without it are the in-run baseline
(``no_digest_identified_at_1pct``), and ``digest_oracle_ceiling`` counts only windows where a tryptic
peptide starts (the ceiling of a search that knows the digest).  Every (b) read is of a protein absent from its reference, so its
identified fraction is the absent-protein rate (``absent_proteins``), and for tryptic reads ``absent_oracle_floor`` is
the fraction of its reads whose error-free label pattern occurs in the reference over one residue string that is not theirs (a
homologue's peptide, say): a search that identified every read whose pattern is unique, which meeting the oracle
ceiling takes, would identify these too, since the read cannot tell them from a read of that peptide.  For the error-free tryptic (a) rows,
``bayes_identified_at_1pct`` is the Bayes ceiling at 1 % FDR (:mod:`_bayes_ceiling`: exact closed-world
posteriors over the digest's windows, reads taken while their mean posterior error is <= 1 %; with its
observed FDP), and ``bayes_all_windows_*`` the same over every window.  For the tryptic (a) rows with errors,
``bayes_*`` is the same ceiling under the simulator's error model (Edman failures and false detections summed
over by the forward algorithm), on :data:`BAYES_ERROR_READS` of the row's reads drawn at random
(``bayes_reads``), with protlm's identified fraction on those reads (``identified_at_1pct_on_bayes_reads``).  False identifications at q <= 0.01
are split by the identity of the read's residues to the window they were placed on: at least
:data:`HOMOLOG_IDENTITY` is a homologue's peptide (``false_to_homologous_windows_at_0.01``, with the median
identity of all false ones), so ``absent_proteins`` also gives the absent-protein rate without them.  Throughput: protlm's identification
of 1,000 whole-protein reads (KCYM, Whatprot-like errors) of proteins in the 20k-sample reference, with the
previous identifications (``protlm/sequencing/identify.py`` at :data:`BEFORE`, and the compiled one with its
kernels at :data:`BEFORE_COMPILED`, loaded from git) on the same
reads as the in-run baseline, and the previous record's (:data:`BEFORE_PREVIOUS`).  Scale: 1,000,000 reads
(``--scale-reads``) from 30-mers to whole proteins (fragments of random proteins of the 20k sample, length
log-uniform from 30 residues to the whole protein; KCYM, Whatprot-like errors) identified against the whole
20k sample, in a subprocess of its own: wall and CPU seconds, identified fraction and observed FDP, peak RSS
(target: under 5 minutes on this 2-core machine).  Memory: peak RSS of ``protlm index`` (a subprocess) on the
20k sample.
"""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _provenance import ROOT, Clock, provenance, rel  # noqa: E402
from sequencing_reference import near_identical  # noqa: E402
from _bayes_ceiling import prefix_hashes  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "proteomes"
N = 400
#: The commit whose identify.py is the in-run "before" (the numpy version, before the compiled kernels).
BEFORE = "4d61ed0"
#: The second in-run "before": the compiled identification as it was before the seed order, sheared diagonals,
#: forward score and faster kernels (identify.py and _identify_kernels.py at this commit).
BEFORE_COMPILED = "57ce380"
#: The third in-run "before": the identification of the previous record run (identification.json at 60c852f,
#: code unchanged up to this commit), before the cut-short alignments and the counting vote selection.
BEFORE_PREVIOUS = "2310d46"
#: Reads of the scale run: fragments of reference proteins, lengths log-uniform from 30 to the whole protein.
SCALE_READS = 1_000_000
SCALE_MIN_LENGTH = 30
#: Reads (drawn at random) of the Bayes ceiling with errors, per row.
BAYES_ERROR_READS = 2000
#: A false identification whose window holds at least this fraction of the read's residues is to a homologue.
HOMOLOG_IDENTITY = 0.5


def _git_module(commit, path, name, replace=()):
    """``path`` at ``commit`` imported as module ``name`` from a temp file (after the text replacements)."""
    text = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout
    for old, new in replace:
        text = text.replace(old, new)
    tmp = Path(tempfile.mkdtemp()) / f"{name}.py"
    tmp.write_text(text)
    spec = importlib.util.spec_from_file_location(name, tmp)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses (and numba's cache) look their module up
    spec.loader.exec_module(mod)
    return mod


def load_before():
    """protlm/sequencing/identify.py at BEFORE, imported as a module from a temp file."""
    return _git_module(BEFORE, "protlm/sequencing/identify.py", "identify_before")


def load_before_compiled(commit=BEFORE_COMPILED, name="before_compiled"):
    """identify.py at ``commit``, calling its own kernels (_identify_kernels.py at that commit)."""
    _git_module(commit, "protlm/sequencing/_identify_kernels.py", f"identify_kernels_{name}")
    return _git_module(commit, "protlm/sequencing/identify.py", f"identify_{name}",
                       [("from protlm.sequencing import _identify_kernels as kern",
                         f"import identify_kernels_{name} as kern")])


def scale_fragments(proteins, n, *, seed):
    """``n`` (id, residues) fragments of random ``proteins``: length log-uniform in [SCALE_MIN_LENGTH, whole].

    The id is ``f<i>|<protein id>|<0-based start>`` (the truth); proteins shorter than the minimum are
    read whole.
    """
    rng = np.random.default_rng(seed)
    out = []
    for i, p in enumerate(rng.integers(0, len(proteins), n).tolist()):
        rec = proteins[p]
        L = len(rec.sequence)
        m = L if L <= SCALE_MIN_LENGTH else int(round(np.exp(rng.uniform(np.log(SCALE_MIN_LENGTH), np.log(L)))))
        st = int(rng.integers(0, L - m + 1))
        out.append((f"f{i}|{rec.id}|{st}", rec.sequence[st: st + m]))
    return out


def scale_run(n):
    """Identify ``n`` reads from 30-mers to whole proteins against the 20k sample (JSON on stdout).

    Run in a subprocess of its own (``--scale-only N``) so that its peak RSS is its own: reading the
    reference, building the index, simulating the reads and identifying them.
    """
    import resource

    from protlm.io import iter_fasta
    from protlm.sequencing.error_model import ErrorModel
    from protlm.sequencing.evaluate import evaluate_identifications
    from protlm.sequencing.identify import identify_reads
    from protlm.sequencing.index import build_index
    from protlm.sequencing.simulate import simulate_reads

    ref = DATA / "uniprot_sample_20k.fasta.gz"
    proteins = list(iter_fasta(ref))
    index = build_index(ref)
    t0 = time.perf_counter()
    sim = simulate_reads(scale_fragments(proteins, n, seed=2), known="KCYM", efficiency=0.9,
                         errors=ErrorModel.whatprot(), seed=3)
    sim_seconds = time.perf_counter() - t0
    identify_reads(sim.reads[:200], index, known="KCYM", efficiency=0.9)  # compiled kernels loaded, tables built
    t0, c0 = time.perf_counter(), time.process_time()
    ids = identify_reads(sim.reads, index, known="KCYM", efficiency=0.9)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    # the read id is f<i>|<protein id>|<start>, and a UniProt protein id holds "|" itself (tr|ACC|NAME)
    origins = {r.id: (r.id.split("|", 1)[1].rsplit("|", 1)[0], t.replace("-", "")) for r, t in zip(sim.reads, sim.truths)}
    ev = evaluate_identifications(ids, origins, index)
    lengths = np.array([len(t.replace("-", "")) for t in sim.truths])
    return {"reads": len(sim), "reads_of": "fragments of proteins in the reference, length log-uniform from "
            f"{SCALE_MIN_LENGTH} to the whole protein", "known": "KCYM", "efficiency": 0.9, "errors": "whatprot",
            "residues_median": float(np.median(lengths)), "residues_mean": round(float(lengths.mean()), 1),
            "residues_quartiles": [float(x) for x in np.percentile(lengths, [25, 75])],
            "simulate_seconds": round(sim_seconds, 1), "identify_wall_seconds": round(wall, 1),
            "identify_cpu_seconds": round(cpu, 1), "reads_per_second": round(len(sim) / wall, 1),
            "identified_at_1pct": round(ev["identified_at_0.01"] / len(sim), 4),
            "observed_fdp_at_0.01": round(ev["fdp_at_0.01"], 4),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "target": "1e6 reads in under 300 s", "target_met": bool(len(sim) >= 1_000_000 and wall < 300)}


def index_peak_rss(fasta):
    """Wall seconds and peak RSS (MB) of ``protlm index FASTA`` in a subprocess.

    A small Python process runs it and reports its child's peak: this process's own children would be
    forked copies of it, whose RSS at the fork counts too.
    """
    protlm = str(Path(sys.executable).with_name("protlm"))
    code = ("import resource, subprocess, sys, tempfile, time, pathlib\n"
            "with tempfile.TemporaryDirectory() as tmp:\n"
            "    t0 = time.perf_counter()\n"
            "    subprocess.run([sys.argv[1], 'index', sys.argv[2], '-o', str(pathlib.Path(tmp) / 'ref.idx')],"
            " check=True, capture_output=True)\n"
            "    print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", code, protlm, str(fasta)], check=True, capture_output=True,
                         text=True).stdout.split()
    return round(float(out[0]), 2), round(int(out[1]) / 1024, 1)


def label_codes(seq_codes, known):
    """Label pattern per residue code: index in ``known`` or len(known); separators len(known) + 1."""
    from protlm.models.alphabet import AMINO_ACIDS
    from protlm.sequencing.index import SEPARATOR

    lut = np.full(SEPARATOR + 1, len(known), dtype=np.uint64)
    for j, a in enumerate(known):
        lut[AMINO_ACIDS.index(a)] = j
    lut[SEPARATOR] = len(known) + 1
    return lut[seq_codes] + np.uint64(1)


def pattern_matches(index, truths, known, *, digest=None):
    """For each residue string: whether its label pattern occurs in the index, and whether every window holding it
    (with ``digest``: only where a peptide of it starts) holds one and the same residue string, and that string's
    equality to the read's own (``(occurs, one_string, own)``, in order)."""
    from protlm.models.alphabet import AMINO_ACIDS

    from protlm.sequencing.digest import start_mask

    lab = label_codes(index.residues, known)
    allowed = None if digest is None else start_mask(index.residues, index.starts, index.lengths, digest)
    n = len(lab)
    powers, prefix = prefix_hashes(lab)  # base^(i+1) and sum lab_i base^(i+1), wrapping
    rpowers, rprefix = prefix_hashes(index.residues)  # the same over residues: windows holding one string
    enc = {a: i for i, a in enumerate(AMINO_ACIDS)}
    out = [None] * len(truths)
    by_len = {}
    for j, t in enumerate(truths):
        by_len.setdefault(min(len(t), 40), []).append(j)
    with np.errstate(over="ignore"):  # hashes wrap modulo 2**64 on purpose
        for L, group in by_len.items():
            # hash of window [i, i+L) scaled to base^(n)... compare h_i * base^(n - i) instead of dividing
            win = (prefix[L:] - prefix[:-L]) * powers[::-1][: n - L + 1]
            where = np.arange(n - L + 1) if allowed is None else np.flatnonzero(allowed[: n - L + 1])
            order = where[np.argsort(win[where])]
            sw = win[order]
            for j in group:
                t = truths[j]
                codes = np.array([enc.get(a, 20) for a in t], dtype=np.int64)
                lt = label_codes(codes, known)
                h = (np.cumsum(lt[:L] * powers[:L])[-1]) * powers[n - 1]
                starts = order[np.searchsorted(sw, h, "left"): np.searchsorted(sw, h, "right")]
                starts = starts[starts + len(t) <= n]
                if len(t) > L:  # verify the whole pattern beyond the hashed prefix
                    starts = np.array([s for s in starts
                                       if np.array_equal(label_codes(index.residues[s: s + len(t)], known), lt)],
                                      dtype=np.int64)
                strings = np.unique((rprefix[starts + len(t)] - rprefix[starts]) * rpowers[::-1][starts])
                own = (np.cumsum(codes.astype(np.uint64) * rpowers[: len(t)])[-1]) * rpowers[n - 1]
                out[j] = (len(starts) > 0, len(strings) == 1, len(strings) == 1 and strings[0] == own)
    return out


def oracle_ceiling(index, truths, known, *, digest=None):
    """Fraction of residue strings whose label pattern occurs in the index only over those same residues
    (with ``digest``: only windows where a peptide of it starts count)."""
    return int(sum(own for _, _, own in pattern_matches(index, truths, known, digest=digest))) / max(len(truths), 1)


def absent_oracle_floor(index, truths, known, *, digest=None):
    """Fraction of residue strings (of proteins absent from the index) whose label pattern occurs in the index over
    one residue string that is not theirs: an oracle that identifies every read whose pattern is unique, and so
    meets :func:`oracle_ceiling`, identifies these reads too, all falsely (the read cannot tell them apart)."""
    return (int(sum(one and not own for _, one, own in pattern_matches(index, truths, known, digest=digest)))
            / max(len(truths), 1))


def homolog_windows(ids, index, origins, truths, *, threshold=HOMOLOG_IDENTITY):
    """False identifications at q <= 0.01 split by the identity of the read's residues to the window it was
    placed on: ``homologous`` (>= ``threshold``, a homologue's peptide) or ``other``; and their median identity."""
    sel = np.flatnonzero(ids.identified(0.01))
    identities = []
    for i, t in zip(sel, (truths[k] for k in sel)):
        protein, seq = origins[ids.read_ids[i]]
        target = index.sequence(int(ids.protein[i]))
        if ids.protein_ids[i] == protein or seq in target:
            continue  # right (the definition of evaluate_identifications)
        window = target[int(ids.start[i]): int(ids.start[i]) + len(t)]
        identities.append(sum(a == b for a, b in zip(t, window)) / len(t))
    identities = np.array(identities)
    return {"homologous": int((identities >= threshold).sum()), "other": int((identities < threshold).sum()),
            "identity_median": round(float(np.median(identities)), 3) if len(identities) else None}


def run_row(index, proteins, *, known, fragment, errors, name):
    from protlm.sequencing.evaluate import evaluate_identifications
    from protlm.sequencing.identify import identify_reads
    from protlm.sequencing.simulate import simulate_reads

    sim = simulate_reads(proteins, known=known, efficiency=0.9, fragment=fragment, min_length=6, errors=errors, seed=0)
    digest = "trypsin" if fragment == "tryptic" else None
    identify_reads(sim.reads[:5], index, known=known, efficiency=0.9, digest=digest)  # tables built, kernels compiled
    t0 = time.perf_counter()
    ids = identify_reads(sim.reads, index, known=known, efficiency=0.9, digest=digest)
    sec = time.perf_counter() - t0
    origins = {r.id: (o[0], t.replace("-", "")) for r, o, t in zip(sim.reads, sim.origins, sim.truths)}
    ev = evaluate_identifications(ids, origins, index)
    clean = [t.replace("-", "") for t in sim.truths]
    ceiling = once_per_peptides(oracle_ceiling, index, clean, known) if name.startswith("(a)") else 0.0
    # whole proteins: their patterns are too long to recur (near-identical relatives were removed from (b))
    floor = (once_per_peptides(absent_oracle_floor, index, clean, known, digest)
             if name.startswith("(b)") and digest else None)
    ident = ev["identified_at_0.01"] / len(sim)
    homolog = homolog_windows(ids, index, origins, clean)
    extra = {}
    if digest:  # the in-run baseline: the same reads placed anywhere, and the ceiling over the digest's windows
        plain = evaluate_identifications(identify_reads(sim.reads, index, known=known, efficiency=0.9), origins, index)
        dc = once_per_peptides(oracle_ceiling, index, clean, known, digest) if name.startswith("(a)") else 0.0
        extra = {"no_digest_identified_at_1pct": round(plain["identified_at_0.01"] / len(sim), 4),
                 "no_digest_observed_fdp_at_0.01": round(plain["fdp_at_0.01"], 4),
                 "digest_oracle_ceiling": round(dc, 4),
                 "identified_over_digest_ceiling": round(ident / dc, 3) if dc else None}
    if digest and name.startswith("(a)"):  # what exact closed-world posteriors allow
        extra.update(bayes_row(sim, index, known, clean, ids.identified(), digest=digest, errors=errors))
    return {"reference": name, "reads": "protein" if fragment is None else fragment, "known": known,
            "errors": "whatprot" if not errors.is_error_free else "none", "n_reads": len(sim),
            "identified_at_1pct": round(ident, 4), "observed_fdp_at_0.01": round(ev["fdp_at_0.01"], 4),
            "observed_fdp_at_0.05": round(ev["fdp_at_0.05"], 4), "oracle_ceiling": round(ceiling, 4),
            "identified_over_ceiling": round(ident / ceiling, 3) if ceiling else None,
            **({} if floor is None else {"absent_oracle_floor": round(floor, 4)}),
            "false_to_homologous_windows_at_0.01": homolog["homologous"],
            "false_to_other_windows_at_0.01": homolog["other"],
            "false_window_identity_median": homolog["identity_median"],
            "reads_per_second": round(len(sim) / sec, 1), "digest": digest, **extra}


_PER_PEPTIDES = {}


def once_per_peptides(fn, index, clean, known, digest=None):
    """``fn(index, clean, known, digest=digest)`` (:func:`oracle_ceiling`, :func:`absent_oracle_floor`), computed
    once for the same reads' residues: the rows with and without errors simulate the same peptides."""
    key = (fn.__name__, id(index), known, digest, hash(tuple(clean)))
    if key not in _PER_PEPTIDES:
        _PER_PEPTIDES[key] = fn(index, clean, known, digest=digest)
    return _PER_PEPTIDES[key]


def bayes_row(sim, index, known, clean, identified, *, digest, errors):
    """The Bayes ceiling at 1 % FDR (:mod:`_bayes_ceiling`) over the digest's windows, and without errors over all
    windows too; with errors on :data:`BAYES_ERROR_READS` reads drawn at random (the exact forward sums over every
    window cost about 60 ms a read), against protlm's identified fraction on the same reads."""
    import _bayes_ceiling as B

    out = {}
    reads = np.arange(len(sim))
    if not errors.is_error_free and len(sim) > BAYES_ERROR_READS:
        reads = np.sort(np.random.default_rng(5).choice(len(sim), BAYES_ERROR_READS, replace=False))
        out["bayes_reads"] = len(reads)
        out["identified_at_1pct_on_bayes_reads"] = round(float(identified[reads].mean()), 4)
    ident = float(identified[reads].mean())
    labels = (("bayes", digest),) if not errors.is_error_free else (("bayes", digest), ("bayes_all_windows", None))
    for label, dg in labels:
        peps, best = B.read_peps([sim.reads[i].read for i in reads], index, known, efficiency=0.9, digest=dg,
                                 errors=errors)
        take = B.identified_at(peps)
        right = np.array([b >= 0 and (index.ids[b] == sim.origins[i][0] or clean[i] in index.sequence(int(b)))
                          for b, i in zip(best.tolist(), reads.tolist())])
        out[f"{label}_identified_at_1pct"] = round(float(take.mean()), 4)
        out[f"{label}_observed_fdp_at_0.01"] = round(float((~right[take]).mean()), 4) if take.any() else 0.0
        out[f"identified_over_{label}"] = round(ident / take.mean(), 3) if take.any() else None
    return out


def _arguments(argv):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--whatprot", metavar="BIN", help="Whatprot binary: add protlm vs Whatprot on the same reads")
    ap.add_argument("--only-whatprot", action="store_true", help="only the Whatprot comparison (needs --whatprot)")
    ap.add_argument("--whatprot-reads", type=int, default=300, help="reads per Whatprot comparison row")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "identification.json"), help="JSON path")
    ap.add_argument("--scale-reads", type=int, default=SCALE_READS, help="reads of the scale run (default 1,000,000)")
    ap.add_argument("--scale-only", type=int, metavar="N", help=argparse.SUPPRESS)  # the scale run's subprocess
    args = ap.parse_args(argv)
    if args.only_whatprot and not args.whatprot:
        ap.error("--only-whatprot needs --whatprot BIN")
    return args


def whatprot_comparison(args, ecoli):
    """protlm vs Whatprot on the same reads (see :mod:`_whatprot`): the report section and its table lines."""
    import _whatprot
    from protlm.sequencing.error_model import ErrorModel

    rng = np.random.default_rng(0)
    subset = [ecoli[i] for i in sorted(rng.choice(len(ecoli), 100, replace=False))]
    rows = []
    for name, proteins in (("E. coli 100-protein subset", subset), ("E. coli proteome", ecoli)):
        for errors in (ErrorModel(), ErrorModel.whatprot()):
            rows += _whatprot.compare(args.whatprot, proteins, name=name, errors=errors, n_reads=args.whatprot_reads,
                                      ceiling=oracle_ceiling)
            print(rows[-5:], flush=True)
    section = {"build": _whatprot.build_info(args.whatprot), "rows": rows,
               "method": _whatprot.__doc__.split("\n\n", 1)[1].replace("\n", " ")}
    cols = ["reference", "errors", "tool", "threads", "n_reads", "top1_accuracy", "identified_at_1pct",
            "correct_at_1pct", "observed_fdp_at_0.01", "oracle_threshold_identified_at_1pct", "oracle_ceiling",
            "digest_ceiling", "reads_per_second"]
    md = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    md.append("")
    md.append(f"Whatprot {section['build']['commit'][:7]}, {section['build']['build']}, makefile changes: "
              f"{section['build']['makefile_changes']}; hybrid classifier {_whatprot.HYBRID}. Whatprot has no "
              "decoys (no identified_at_1pct); oracle_threshold_identified_at_1pct ranks each tool's reads by its "
              "score and takes the most whose false fraction (by the truth) is <= 1 %.")
    return section, md


def main(argv=None):
    from protlm.io import iter_fasta
    from protlm.sequencing.error_model import ErrorModel
    from protlm.sequencing.evaluate import evaluate_identifications
    from protlm.sequencing.index import build_index
    from protlm.sequencing.identify import identify_reads
    from protlm.sequencing.simulate import simulate_reads

    clock = Clock()
    args = _arguments(argv)
    if args.scale_only:
        print(json.dumps(scale_run(args.scale_only)))
        return
    if args.only_whatprot:
        ecoli = list(iter_fasta(DATA / "ecoli_k12_UP000000625.fasta"))
        section, md = whatprot_comparison(args, ecoli)
        report = {**provenance(__file__, argv, clock), "data": [rel(DATA / "ecoli_k12_UP000000625.fasta")],
                  "whatprot": section}
        Path(args.out).write_text(json.dumps(report, indent=1))
        Path(args.out).with_suffix(".md").write_text("\n".join(md) + "\n")
        print("\n".join(md))
        return
    index_seconds_cli, index_rss = index_peak_rss(DATA / "uniprot_sample_20k.fasta.gz")
    rng = np.random.default_rng(0)
    ecoli = list(iter_fasta(DATA / "ecoli_k12_UP000000625.fasta"))
    ecoli_index = build_index(DATA / "ecoli_k12_UP000000625.fasta")
    sample = list(iter_fasta(DATA / "uniprot_sample_20k.fasta.gz"))
    picked = [ecoli[i] for i in rng.choice(len(ecoli), N, replace=False)]
    held = set(rng.choice(len(sample), N, replace=False).tolist())
    queries = [sample[i] for i in sorted(held)]
    rest = [r for i, r in enumerate(sample) if i not in held]
    drop = near_identical([q.sequence for q in queries], [r.sequence for r in rest])
    rest = [r for j, r in enumerate(rest) if j not in drop]
    t0 = time.perf_counter()
    big = build_index(io.StringIO("".join(f">{r.id}\n{r.sequence}\n" for r in rest)))
    index_seconds = time.perf_counter() - t0
    rows = []
    for known in ("KCYM", "KCYMRHWST"):
        for fragment in (None, "tryptic"):
            for errors in (ErrorModel(), ErrorModel.whatprot()):
                rows.append(run_row(ecoli_index, picked, known=known, fragment=fragment, errors=errors,
                                    name="(a) E. coli proteome"))
                rows.append(run_row(big, queries, known=known, fragment=fragment, errors=errors,
                                    name="(b) held-out vs 20k sample"))
                print(rows[-2], rows[-1], flush=True)
    # throughput on the 20k-sample reference: 1,000 whole-protein reads with errors of proteins IN it,
    # this identification vs the previous one (git) on the same reads
    before = load_before()
    in_ref = [rest[i] for i in rng.choice(len(rest), 1000, replace=False)]
    sim = simulate_reads(in_ref, known="KCYM", efficiency=0.9, errors=ErrorModel.whatprot(), seed=1)
    origins = {r.id: (o[0], t.replace("-", "")) for r, o, t in zip(sim.reads, sim.origins, sim.truths)}
    t0, c0 = time.perf_counter(), time.process_time()
    now = identify_reads(sim.reads, big, known="KCYM", efficiency=0.9)
    t_new, c_new = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    old = before.identify_reads(sim.reads, big, known="KCYM", efficiency=0.9)
    t_old = time.perf_counter() - t0
    ev_new, ev_old = evaluate_identifications(now, origins, big), evaluate_identifications(old, origins, big)
    compiled = load_before_compiled()
    compiled.identify_reads(sim.reads[:20], big, known="KCYM", efficiency=0.9)  # its kernels compile here
    t0, c0 = time.perf_counter(), time.process_time()
    old_c = compiled.identify_reads(sim.reads, big, known="KCYM", efficiency=0.9)
    t_old_c, c_old_c = time.perf_counter() - t0, time.process_time() - c0
    ev_old_c = evaluate_identifications(old_c, origins, big)
    previous = load_before_compiled(BEFORE_PREVIOUS, "previous")
    previous.identify_reads(sim.reads[:20], big, known="KCYM", efficiency=0.9)  # its kernels compile here
    t0, c0 = time.perf_counter(), time.process_time()
    old_p = previous.identify_reads(sim.reads, big, known="KCYM", efficiency=0.9)
    t_old_p, c_old_p = time.perf_counter() - t0, time.process_time() - c0
    ev_old_p = evaluate_identifications(old_p, origins, big)
    speed = {"reads": len(sim), "reads_of": "proteins in the reference", "reference_residues": big.n_residues,
             "reference_sequences": big.n_sequences, "index_build_seconds": round(index_seconds, 2),
             "identify_reads_per_second": round(len(sim) / t_new, 1),
             "identify_reads_per_cpu_second": round(len(sim) / c_new, 1),
             "before_reads_per_second": round(len(sim) / t_old, 1), "before": BEFORE,
             "identified_at_1pct": round(ev_new["identified_at_0.01"] / len(sim), 4),
             "before_identified_at_1pct": round(ev_old["identified_at_0.01"] / len(sim), 4),
             "observed_fdp_at_0.01": round(ev_new["fdp_at_0.01"], 4),
             "before_observed_fdp_at_0.01": round(ev_old["fdp_at_0.01"], 4),
             "before_compiled": BEFORE_COMPILED, "before_compiled_reads_per_second": round(len(sim) / t_old_c, 1),
             "before_compiled_reads_per_cpu_second": round(len(sim) / c_old_c, 1),
             "before_compiled_identified_at_1pct": round(ev_old_c["identified_at_0.01"] / len(sim), 4),
             "before_compiled_observed_fdp_at_0.01": round(ev_old_c["fdp_at_0.01"], 4),
             "before_previous": BEFORE_PREVIOUS, "before_previous_reads_per_second": round(len(sim) / t_old_p, 1),
             "before_previous_reads_per_cpu_second": round(len(sim) / c_old_p, 1),
             "before_previous_identified_at_1pct": round(ev_old_p["identified_at_0.01"] / len(sim), 4),
             "before_previous_observed_fdp_at_0.01": round(ev_old_p["fdp_at_0.01"], 4),
             "speedup_over_previous": round(t_old_p / t_new, 2),
             "projected_minutes_for_1e6_reads": round(1e6 / (len(sim) / t_new) / 60, 1)}
    # the scale run: 1e6 reads from 30-mers to whole proteins, in a process of its own (its own peak RSS)
    scale = json.loads(subprocess.run([sys.executable, __file__, "--scale-only", str(args.scale_reads)], check=True,
                                      capture_output=True, text=True).stdout.strip().splitlines()[-1])
    print("scale:", scale, flush=True)
    memory = {"command": "protlm index data/proteomes/uniprot_sample_20k.fasta.gz -o TMP/ref.idx",
              "reference_sequences": len(sample), "reference_residues": int(sum(len(r.sequence) for r in sample)),
              "seconds": index_seconds_cli, "peak_rss_mb": index_rss}
    absent = [{"known": r["known"], "reads": r["reads"], "errors": r["errors"], "n_reads": r["n_reads"],
               "identified_at_1pct": r["identified_at_1pct"], "absent_oracle_floor": r.get("absent_oracle_floor"),
               "no_digest_identified_at_1pct": r.get("no_digest_identified_at_1pct"),
               "identified_to_other_than_homologous_windows_at_1pct":
                   round((r["identified_at_1pct"] * r["n_reads"] - r["false_to_homologous_windows_at_0.01"])
                         / r["n_reads"], 4)}
              for r in rows if r["reference"].startswith("(b)")]
    report = {**provenance(__file__, argv, clock), "data": [rel(DATA / "ecoli_k12_UP000000625.fasta"),
                                                            rel(DATA / "uniprot_sample_20k.fasta.gz")],
              "rows": rows, "absent_proteins": absent, "throughput": speed, "scale": scale, "index_memory": memory,
              "whatprot": "not run (see README)"}
    whatprot_md = []
    if args.whatprot:  # protlm vs Whatprot on the same reads
        report["whatprot"], whatprot_md = whatprot_comparison(args, ecoli)
    Path(args.out).write_text(json.dumps(report, indent=1))
    cols = ["reference", "reads", "known", "errors", "n_reads", "identified_at_1pct", "observed_fdp_at_0.01",
            "false_to_homologous_windows_at_0.01", "false_window_identity_median", "oracle_ceiling",
            "identified_over_ceiling", "absent_oracle_floor", "digest", "no_digest_identified_at_1pct", "digest_oracle_ceiling",
            "identified_over_digest_ceiling", "bayes_identified_at_1pct", "bayes_observed_fdp_at_0.01",
            "identified_over_bayes", "bayes_reads", "bayes_all_windows_identified_at_1pct", "identified_over_bayes_all_windows",
            "reads_per_second"]
    md = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    md.append("")
    md.append(f"Throughput (20k-sample reference, {len(sim)} whole-protein KCYM reads with errors, of proteins in "
              f"the reference; before = identify.py at {BEFORE}): {speed}")
    md.append("")
    md.append(f"Scale ({scale['reads']:,} reads, {scale['reads_of']}, KCYM, Whatprot-like errors, 20k-sample "
              f"reference): {scale['identify_wall_seconds']} s wall, {scale['identify_cpu_seconds']} s CPU, "
              f"{scale['reads_per_second']} reads/s, {scale['identified_at_1pct']:.1%} identified at 1 % FDR "
              f"(observed FDP {scale['observed_fdp_at_0.01']:.2%}), peak RSS {scale['peak_rss_mb']} MB; "
              f"target {scale['target']}: {'met' if scale['target_met'] else 'missed'}.  {scale}")
    md.append("")
    md.append(f"Index memory (20k sample, subprocess): {memory}")
    md += [""] + whatprot_md if whatprot_md else []
    Path(args.out).with_suffix(".md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
