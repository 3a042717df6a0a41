"""Constant memory at database scale (issue 16, item 4): peak RSS of every streaming path on a >= 2 GB file.

The file is a generated UniRef-format FASTA, at least ``--target-gb`` (default
2) GB gzipped, made once under ``--scratch`` by the generator of
``benchmarks/readers.py`` with ``benchmarks/taxonomy.py``'s UniRef headers, and
reused by later runs.  Each path runs in its own subprocess, so its peak RSS
(``VmHWM``, interpreter and imports included) is its own:

* ``iter_fasta``, ``iter_uniref``: the readers, every record;
* ``protlm inspect --json``: the command, in-process through its click entry point;
* ``read_taxonomy``: the ``--taxonomy`` scan for 4,000 ids;
* ``protlm index``: the reference index keeps every residue (and its decoy)
  plus per-sequence ids and offsets, so its memory is proportional to the
  residues it keeps, not constant.  It is measured on two real references of
  different sizes (the E. coli proteome, 1.35 M residues, and the 20k UniProt
  sample, 9.06 M residues) to state bytes per residue; on the generated file
  (billions of residues) it would need that many bytes per residue, more than
  this machine's 24 GB, so it is not run there.

Targets: readers and ``inspect`` under 300 MB; ``index`` proportional to the
residues it keeps (stated).

One command::

    python benchmarks/memory.py

prints a table and writes ``benchmarks/results/memory.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _provenance import ROOT, Clock, provenance, rel  # noqa: E402
from readers import SAMPLE, _peak_rss_mb, make_big_file  # noqa: E402
from taxonomy import _sample, _uniref_header, _wanted  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "memory.json"
PATHS = ("iter_fasta", "iter_uniref", "protlm inspect --json", "read_taxonomy", "protlm index")
INDEX_REFERENCES = {"E. coli proteome": SAMPLE.parent / "ecoli_k12_UP000000625.fasta", "20k UniProt sample": SAMPLE}
STREAMING_LIMIT_MB = 300


def _worker(path_name: str, path: str, ids_path: str, scratch: str) -> dict:
    t0, c0 = time.perf_counter(), time.process_time()
    out: dict = {}
    if path_name == "iter_fasta":
        from protlm.io import iter_fasta

        n = residues = 0
        for rec in iter_fasta(path):
            n += 1
            residues += len(rec.sequence)
        out = {"n_records": n, "n_residues": residues}
    elif path_name == "iter_uniref":
        from protlm.io import iter_uniref

        n = 0
        for _ in iter_uniref(path):
            n += 1
        out = {"n_records": n}
    elif path_name == "protlm inspect --json":
        import contextlib
        import io

        from protlm.cli import main

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                main.main(["inspect", path, "--json"], standalone_mode=False)
            except SystemExit:
                pass
        report = json.loads(buf.getvalue().strip().splitlines()[-1])
        out = {"n_records": report.get("n_sequences")}
    elif path_name == "read_taxonomy":
        from protlm.io.taxonomy import read_taxonomy

        ids = json.loads(Path(ids_path).read_text())["ids"]
        tax = read_taxonomy(path, ids=ids)
        out = {"n_records": tax.files[0]["n_records"]}
    elif path_name == "protlm index":
        from protlm.sequencing.index import build_index

        out["rss_before_mb"] = _peak_rss_mb()  # interpreter and imports, before any residue is read
        index = build_index(path)
        index.save(Path(scratch) / "memory_benchmark.protlm-index.npz")
        out.update(n_records=index.n_sequences, n_residues=int(len(index.residues)))
        (Path(scratch) / "memory_benchmark.protlm-index.npz").unlink()
    else:
        raise SystemExit(f"unknown path {path_name!r}")
    out.update(seconds=time.perf_counter() - t0, cpu_seconds=time.process_time() - c0, peak_rss_mb=_peak_rss_mb())
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scratch", type=Path, default=ROOT / "scratch", help="folder for the generated file (git-ignored)")
    ap.add_argument("--target-gb", type=float, default=2.0, help="compressed size of the generated file, GB")
    ap.add_argument("--paths", default=",".join(PATHS), help="comma-separated subset of: " + ", ".join(PATHS))
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(*args.worker)))
        return 0
    clock = Clock()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    if not SAMPLE.exists():
        raise SystemExit(f"{SAMPLE} is missing: the benchmark needs the project's shared data next to the checkout")
    args.scratch.mkdir(parents=True, exist_ok=True)
    big_path = args.scratch / f"uniref_big_{args.target_gb:g}gb_w60.fasta.gz"
    sample = _sample()
    big = make_big_file(big_path, target_bytes=int(args.target_gb * 1e9), log=log, header=_uniref_header(sample))
    ids, _expected = _wanted(sample, big["copies_of_sample"], 4000, 0)
    ids_path = args.scratch / "memory_benchmark.wanted.json"
    ids_path.write_text(json.dumps({"ids": ids}))

    rows = []
    jobs = []
    for name in args.paths.split(","):
        if name == "protlm index":
            jobs += [(name, label, ref) for label, ref in INDEX_REFERENCES.items()]
        else:
            jobs.append((name, "generated file", big_path))
    for name, label, source in jobs:
        log(f"{name} on {label} ...")
        cmd = [sys.executable, __file__, "--worker", name, str(source), str(ids_path), str(args.scratch)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            rows.append({"path": name, "input": label, "failed": (proc.stderr.strip().splitlines() or ["?"])[-1]})
            log(f"  failed: {rows[-1]['failed']}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        row = {"path": name, "input": label, "seconds": round(r["seconds"], 1), "cpu_seconds": round(r["cpu_seconds"], 1),
               "peak_rss_mb": round(r["peak_rss_mb"], 1), "n_records": r.get("n_records")}
        if name == "protlm index":
            row["n_residues"] = r["n_residues"]
            row["rss_before_mb"] = round(r["rss_before_mb"], 1)
            # what the index adds over the interpreter and imports, per residue of the reference
            row["bytes_per_residue"] = round((r["peak_rss_mb"] - r["rss_before_mb"]) * 2**20 / r["n_residues"], 2)
        else:
            row["under_300_mb"] = r["peak_rss_mb"] < STREAMING_LIMIT_MB
        rows.append(row)
    streaming = [r for r in rows if "under_300_mb" in r]
    report = {
        **provenance(__file__, argv, clock),
        "file": {**big, "path": rel(big_path)},
        "results": rows,
        "summary": {"streaming_paths_under_300_mb": bool(streaming) and all(r["under_300_mb"] for r in streaming),
                    "index_bytes_per_residue": {r["input"]: r["bytes_per_residue"] for r in rows
                                                if "bytes_per_residue" in r}},
    }
    from protlm.report import write_json

    write_json(args.out, report)
    print(f"file: {big['compressed_bytes'] / 1e9:.2f} GB gzip, {big['uncompressed_bytes'] / 1e9:.2f} GB FASTA, "
          f"{big['n_records']:,} records")
    print(f"{'path':<24} {'input':<20} {'s':>8} {'cpu s':>8} {'peak RSS MB':>12} {'records':>12}  note")
    for r in rows:
        if "failed" in r:
            print(f"{r['path']:<24} failed: {r['failed']}")
            continue
        note = (f"{r['bytes_per_residue']} bytes/residue kept" if "bytes_per_residue" in r
                else ("< 300 MB" if r["under_300_mb"] else ">= 300 MB: target missed"))
        print(f"{r['path']:<24} {r['input']:<20} {r['seconds']:>8.1f} {r['cpu_seconds']:>8.1f} {r['peak_rss_mb']:>12.1f} "
              f"{r['n_records'] or 0:>12,}  {note}")
    print(f"written {rel(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
