"""MSA search benchmark: ``protlm msa``'s engines against HMMER's jackhmmer command line.

Claim under test (issue 17, item 3): ``protlm msa`` builds the MSAs of a HisKA
query (EnvZ, P0AEJ4) and a Response_reg query (OmpR, P0AA16) of *E. coli*
against the 20,000-record UniProt sample; for each engine the table gives the
hits, wall and CPU seconds and peak RSS, and the overlap of its hits with
those of HMMER's own ``jackhmmer`` program on the same database and settings
(the reference, when the ``jackhmmer`` command is installed: Debian package
``hmmer``).

Engines, all with E-value 1e-3 (report and inclusion) and 2 threads:

* ``pyhmmer jackhmmer``: ``protlm msa --iterations 3`` (the default engine);
* ``pyhmmer phmmer``: ``protlm msa --iterations 1``;
* ``mmseqs2``: ``protlm msa --engine mmseqs2 --iterations 3`` (``-s 7.5``), if ``mmseqs`` is installed;
* ``jackhmmer (HMMER CLI)``: ``jackhmmer -N 3 -E 1e-3 --incE 1e-3 --domE 1e-3 --incdomE 1e-3 --cpu 2``,
  the hits being the sequences of its final-round alignment (``-A``); jackhmmer rewinds its
  database, so it reads a decompressed copy (made before its clock starts).

Every run is its own process; wall and CPU seconds and peak RSS are that
process's and its children's (``os.wait4``), the interpreter and imports
included, reading the database included.

One command::

    python benchmarks/msa_search.py

prints a table and writes ``benchmarks/results/msa_search.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _provenance import ROOT, Clock, provenance, rel  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "msa_search.json"
DB = ROOT.parent / "shared" / "data" / "proteomes" / "uniprot_sample_20k.fasta.gz"
QUERIES = ROOT / "data" / "envz_ompr.fasta"
QUERY_NAMES = {1: "EnvZ (HisKA)", 2: "OmpR (Response_reg)"}
EVALUE = 1e-3
THREADS = 2


def _measured(cmd) -> dict:
    """Run ``cmd``: its wall and CPU seconds and peak RSS (MB) of that process tree (``os.wait4``)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{stderr[-2000:]}")
    return {"wall_seconds": round(wall, 2), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "stdout": stdout, "stderr": stderr}


def _protlm_msa(record: int, out: Path, *extra) -> tuple:
    cmd = [sys.executable, "-c", "from protlm.cli import main; main()", "--log-level", "warning", "msa", str(QUERIES),
           "--record", str(record), "--db", str(DB), "-o", str(out), "--evalue", str(EVALUE), "--threads",
           str(THREADS), "--overwrite", *extra]
    m = _measured(cmd)
    from protlm.io import read_a3m

    ids = [d.split(None, 1)[0].rsplit("/", 1)[0] for d in read_a3m(out).descriptions[1:]]
    return m, ids, " ".join(["protlm", *cmd[3:]]).replace(str(ROOT) + "/", "").replace(str(ROOT.parent) + "/", "../")


def _jackhmmer(record: int, tmp: Path) -> tuple:
    from protlm.io import read_stockholm
    from protlm.search import read_query
    from protlm.io.fasta import write_fasta

    query = read_query(QUERIES, record=record)
    qpath = tmp / f"query{record}.fasta"
    write_fasta([query], qpath)
    ali = tmp / f"jackhmmer{record}.sto"
    plain = tmp / "uniprot_sample_20k.fasta"  # jackhmmer rewinds its database, so it cannot read it gzipped
    if not plain.exists():
        import gzip

        with gzip.open(DB, "rb") as fin, open(plain, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    cmd = ["jackhmmer", "-N", "3", "-E", str(EVALUE), "--incE", str(EVALUE), "--domE", str(EVALUE),
           "--incdomE", str(EVALUE), "--cpu", str(THREADS), "--noali", "-o", os.devnull, "-A", str(ali),
           str(qpath), str(plain)]
    m = _measured(cmd)
    ids = sorted({i.rsplit("/", 1)[0] for i in read_stockholm(ali).ids} - {query.id})
    shown = " ".join(cmd).replace(str(tmp) + "/", "")
    return m, ids, shown


def _version(cmd, line: int = 0) -> str | None:
    """Line ``line`` of what ``cmd`` prints (``None`` when it is not installed)."""
    try:
        lines = subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()
    except OSError:
        return None
    return lines[line].lstrip("# ") if len(lines) > line else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    if not DB.exists():
        raise SystemExit(f"{rel(DB)} not found: this benchmark needs the project's shared data folder")
    clock = Clock()
    engines = [("pyhmmer jackhmmer", ("--iterations", "3")), ("pyhmmer phmmer", ("--iterations", "1"))]
    if shutil.which("mmseqs"):
        engines.append(("mmseqs2", ("--engine", "mmseqs2", "--iterations", "3", "--sensitivity", "7.5")))
    has_jackhmmer = shutil.which("jackhmmer") is not None
    rows = []
    with tempfile.TemporaryDirectory(prefix="protlm-bench-msa-") as tmp:
        tmp = Path(tmp)
        for record, qname in QUERY_NAMES.items():
            reference = None
            if has_jackhmmer:
                m, ids, shown = _jackhmmer(record, tmp)
                reference = set(ids)
                rows.append({"query": qname, "engine": "jackhmmer (HMMER CLI)", "command": shown, "hits": len(ids),
                             **{k: m[k] for k in ("wall_seconds", "cpu_seconds", "peak_rss_mb")}})
            for engine, extra in engines:
                out = tmp / f"{record}-{engine.replace(' ', '_')}.a3m"
                m, ids, shown = _protlm_msa(record, out, *extra)
                row = {"query": qname, "engine": engine, "command": shown.replace(str(tmp) + "/", ""), "hits": len(ids),
                       **{k: m[k] for k in ("wall_seconds", "cpu_seconds", "peak_rss_mb")}}
                if reference is not None:
                    found = set(ids)
                    row.update(shared_with_jackhmmer=len(found & reference), only_here=len(found - reference),
                               only_jackhmmer=len(reference - found),
                               jaccard=round(len(found & reference) / max(1, len(found | reference)), 3))
                rows.append(row)
                print(f"  {qname:22s} {engine:22s} {len(ids):4d} hits  {m['wall_seconds']:6.1f} s", file=sys.stderr)
    import pyhmmer

    tools = {"pyhmmer": pyhmmer.__version__, "mmseqs": _version(["mmseqs", "version"]),
             "jackhmmer": _version(["jackhmmer", "-h"], line=1)}
    report = {
        **provenance(__file__, argv, clock),
        "database": {"path": rel(DB), "n_sequences": 20000, "note": "UniProtKB headers with OS= but no OX="},
        "queries": {"path": rel(QUERIES), "records": {str(k): v for k, v in QUERY_NAMES.items()}},
        "settings": {"evalue": EVALUE, "threads": THREADS},
        "tools": tools,
        "definitions": {
            "hits": "database sequences in the A3M (protlm) or in jackhmmer's final-round -A alignment, query excluded",
            "wall_seconds/cpu_seconds/peak_rss_mb": "of the whole process tree of that run (os.wait4), imports and reading the database included",
            "shared_with_jackhmmer/only_here/only_jackhmmer/jaccard": "overlap of the hit sets (by database id) with jackhmmer's",
        },
        "results": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    head = f"{'query':22s} {'engine':22s} {'hits':>5s} {'wall s':>7s} {'CPU s':>7s} {'RSS MB':>7s} {'shared':>7s} {'only':>5s} {'missed':>6s} {'jaccard':>7s}"
    print(head)
    for r in rows:
        extra = (f" {r['shared_with_jackhmmer']:7d} {r['only_here']:5d} {r['only_jackhmmer']:6d} {r['jaccard']:7.3f}"
                 if "jaccard" in r else f" {'(reference)':>28s}")
        print(f"{r['query']:22s} {r['engine']:22s} {r['hits']:5d} {r['wall_seconds']:7.1f} {r['cpu_seconds']:7.1f} "
              f"{r['peak_rss_mb']:7.1f}{extra}")
    print(f"wrote {rel(RESULTS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
