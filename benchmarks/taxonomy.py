"""Taxonomy benchmark: ``read_taxonomy`` on a UniRef FASTA against ``iter_uniref`` alone.

Claim under test (issue 14, item 2): finding the taxa of an MSA's ids in a
UniRef-format FASTA of at least 1 GB gzipped runs at least 0.9x as fast as
reading the same file with ``protlm.io.iter_uniref`` alone (which parses every
header), with a peak RSS under 200 MB.

The file is generated once under ``--scratch`` (git-ignored) by
``benchmarks/readers.py``'s generator: the 20,000-sequence UniProtKB sample
repeated with unique accessions, written with UniRef headers
(``>UniRef100_ACC-k name n=1 Tax=organism TaxID=taxid RepID=NAME-k``),
sequence lines wrapped at 60, gzip level 1.  The sample's headers name the
organism (``OS=``) but carry no ``OX=``, so each organism gets a number
(1,000,000 + its order of first appearance) as its TaxID.  A later run
reuses the file.

The wanted ids are what a ColabFold MSA pair holds: ``--n-wanted`` ids (default
4,000) drawn with a fixed seed from the file, two thirds written
``UniRef100_ACC`` and one third as bare accessions, plus a quarter as many
``UPI...`` ids that the file does not have.  Every taxon found is checked
against the sample's ``OX=``.

Each reader runs in its own subprocess (peak RSS is the reader's own:
``VmHWM``, interpreter and imports included); MB/s is uncompressed FASTA
megabytes per second, decompression included.

One command::

    python benchmarks/taxonomy.py

prints a table and writes ``benchmarks/results/taxonomy.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _provenance import ROOT, Clock, provenance, rel  # noqa: E402
from readers import SAMPLE, _peak_rss_mb, make_big_file  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "taxonomy.json"
READERS = ("iter_uniref (baseline)", "read_taxonomy")
RSS_LIMIT_MB = 200
MIN_RATIO = 0.9


def _sample() -> dict:
    """Sample header -> (accession, protein name, organism, entry name, taxid)."""
    from protlm.io import iter_uniprot

    taxids: dict = {}
    out = {}
    for r in iter_uniprot(SAMPLE):
        h = r.header
        taxid = h.taxid if h.taxid is not None else taxids.setdefault(h.organism, 1_000_000 + len(taxids))
        out[r.description] = (h.accession, h.protein_name, h.organism, h.entry_name, taxid)
    return out


def _uniref_header(sample: dict):
    """A ``header(description, copy)`` for :func:`readers.make_big_file` writing UniRef100 headers."""
    parts = {d: (f"UniRef100_{acc}-", f" {name} n=1 Tax={org} TaxID={taxid} RepID={entry}-")
             for d, (acc, name, org, entry, taxid) in sample.items()}

    def header(desc: str, copy: int) -> str:
        a, b = parts[desc]
        return f"{a}{copy}{b}{copy}"

    return header


def _wanted(sample: dict, copies: int, n: int, seed: int) -> tuple:
    """``(ids, expected)``: ids to look up and the taxon each present one must get."""
    sample = [(acc, taxid) for acc, _, _, _, taxid in sample.values()]
    rng = random.Random(seed)
    ids, expected = [], {}
    for k in range(n):
        acc, taxid = sample[rng.randrange(len(sample))]
        copy = rng.randrange(copies)
        name = f"{acc}-{copy}"
        ident = name if k % 3 == 2 else f"UniRef100_{name}"
        ids.append(ident)
        expected[ident] = None if taxid is None else str(taxid)
    ids += [f"UPI{rng.getrandbits(40):010X}" for _ in range(n // 4)]
    return ids, expected


# --------------------------------------------------------------------------- worker
def _run(reader: str, path: str, ids_path: str) -> dict:
    from protlm.io import iter_uniref
    from protlm.io.taxonomy import read_taxonomy

    ids = json.loads(Path(ids_path).read_text())["ids"]
    t0, c0 = time.perf_counter(), time.process_time()
    out: dict = {}
    if reader == "iter_uniref (baseline)":
        n = checksum = 0
        for rec in iter_uniref(path):
            n += 1
            checksum += rec.header.taxid or 0
        out = {"n_records": n, "checksum": checksum}
    elif reader == "read_taxonomy":
        tax = read_taxonomy(path, ids=ids)
        out = {"n_records": tax.files[0]["n_records"], "found": {i: tax.lookup(i) for i in ids}}
    else:
        raise SystemExit(f"unknown reader {reader!r}")
    out.update(seconds=time.perf_counter() - t0, cpu_seconds=time.process_time() - c0, peak_rss_mb=_peak_rss_mb())
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scratch", type=Path, default=ROOT / "scratch", help="folder for the generated file (git-ignored)")
    ap.add_argument("--target-gb", type=float, default=1.0, help="compressed size of the generated file, GB")
    ap.add_argument("--n-wanted", type=int, default=4000, help="ids present in the file to look up")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--worker", nargs=3, metavar=("READER", "PATH", "IDS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(_run(*args.worker)))
        return 0
    clock = Clock()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    if not SAMPLE.exists():
        raise SystemExit(f"{SAMPLE} is missing: the benchmark needs the project's shared data next to the checkout")
    big_path = args.scratch / "uniref_big_w60.fasta.gz"
    sample = _sample()
    big = make_big_file(big_path, target_bytes=int(args.target_gb * 1e9), log=log, header=_uniref_header(sample))
    ids, expected = _wanted(sample, big["copies_of_sample"], args.n_wanted, args.seed)
    ids_path = args.scratch / "uniref_big_w60.wanted.json"
    ids_path.write_text(json.dumps({"ids": ids}))

    results = []
    for reader in READERS:
        log(f"{reader} ...")
        cmd = [sys.executable, __file__, "--worker", reader, str(big_path), str(ids_path)]
        r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip().splitlines()[-1])
        if r["n_records"] != big["n_records"]:
            raise SystemExit(f"{reader} read {r['n_records']} records, the file has {big['n_records']}")
        row = {"reader": reader, "seconds": round(r["seconds"], 2), "cpu_seconds": round(r["cpu_seconds"], 2),
               "mb_per_s": round(big["uncompressed_bytes"] / 1e6 / r["seconds"], 1),
               "mb_per_cpu_s": round(big["uncompressed_bytes"] / 1e6 / r["cpu_seconds"], 1),
               "peak_rss_mb": round(r["peak_rss_mb"], 1), "n_records": r["n_records"]}
        if "found" in r:
            found = r["found"]
            row["n_ids"] = len(ids)
            row["n_found"] = sum(v is not None for v in found.values())
            row["n_expected"] = sum(v is not None for v in expected.values())
            wrong = [i for i, v in expected.items() if found.get(i) != v]
            absent = [i for i in ids if i not in expected and found.get(i) is not None]
            if wrong or absent:
                raise SystemExit(f"read_taxonomy got {len(wrong)} taxa wrong and found {len(absent)} absent ids")
        results.append(row)
    base, scan = results
    ratio_wall = round(base["seconds"] / scan["seconds"], 2)
    ratio_cpu = round(base["cpu_seconds"] / scan["cpu_seconds"], 2)
    summary = {
        "speed_vs_iter_uniref_wall": ratio_wall,
        "speed_vs_iter_uniref_cpu": ratio_cpu,
        "at_least_0.9x_iter_uniref": ratio_wall >= MIN_RATIO and ratio_cpu >= MIN_RATIO,
        "peak_rss_under_200_mb": scan["peak_rss_mb"] < RSS_LIMIT_MB,
    }
    big = {**big, "path": rel(big_path)}
    report = {
        **provenance(__file__, argv, clock),
        "mb_definition": "uncompressed FASTA bytes / 1e6 per wall-clock second (mb_per_s) or per CPU second of the "
                         "worker (mb_per_cpu_s), gzip decompression included",
        "file": big,
        "wanted": {"n_present": args.n_wanted, "n_absent": len(ids) - args.n_wanted, "seed": args.seed,
                   "forms": "2/3 UniRef100_ACC, 1/3 bare ACC; absent ones UPI..."},
        "results": results,
        "summary": summary,
    }
    from protlm.report import write_json

    write_json(args.out, report)
    print(f"{'reader':<24} {'s':>8} {'cpu s':>8} {'MB/s':>7} {'MB/cpu-s':>9} {'peak RSS MB':>12} {'records':>11}")
    for r in results:
        print(f"{r['reader']:<24} {r['seconds']:>8.1f} {r['cpu_seconds']:>8.1f} {r['mb_per_s']:>7.1f} "
              f"{r['mb_per_cpu_s']:>9.1f} {r['peak_rss_mb']:>12.1f} {r['n_records']:>11,}")
    print(f"read_taxonomy vs iter_uniref: {ratio_wall}x wall, {ratio_cpu}x CPU (target >= {MIN_RATIO}x); "
          f"found {scan['n_found']}/{scan['n_expected']} ids with a taxon, all correct; "
          f"peak RSS < {RSS_LIMIT_MB} MB: {summary['peak_rss_under_200_mb']}")
    print(f"written {rel(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
