"""The MMSeqs2 engine: ``mmseqs easy-search`` (optionally iterative), for databases too large for pyhmmer.

MMseqs2 (Steinegger & Söding 2017) is an external program (Debian package
``mmseqs2``, bioconda ``mmseqs2``); it reads the database FASTA itself (plain
or gzipped), in its own temporary folder.  protlm checks the database's first
header with its own readers before the search and parses the header of every
hit that MMseqs2 reports back (``theader``) with the same readers, so a hit
carries the same accession and taxonomy as with the pyhmmer engine.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from protlm.errors import SearchError, ToolNotFoundError
from protlm.search.database import database_kind, parse_database_header
from protlm.search.result import SearchHit, a3m_row, row_stats

__all__ = ["search_mmseqs", "find_mmseqs"]

log = logging.getLogger(__name__)

_FIELDS = "target,theader,evalue,bits,qstart,qend,tstart,tend,qaln,taln"


def find_mmseqs() -> str:
    """Path of the ``mmseqs`` binary on ``PATH``.

    Raises
    ------
    ToolNotFoundError
        One line naming the binary and how to install it.
    """
    exe = shutil.which("mmseqs")
    if exe is None:
        raise ToolNotFoundError(
            "engine mmseqs2 needs the 'mmseqs' binary, which is not on PATH "
            "(install it: apt-get install mmseqs2, or conda install -c bioconda mmseqs2; or use --engine pyhmmer)"
        )
    return exe


def _columns(qaln: str, taln: str, qstart: int):
    q = qstart - 1
    for a, b in zip(qaln, taln):
        if a == "-":
            yield None, b.lower()
        else:
            yield q, b
            q += 1


def search_mmseqs(query: str, database, *, iterations: int, evalue: float, threads: int, sensitivity: float,
                  max_hits: int | None = None, callback=None):
    """Search ``query`` (an uppercase sequence) against ``database`` with ``mmseqs easy-search``.

    Returns
    -------
    (list of SearchHit, dict)
        Hits passing the E-value threshold, best first (one per database
        sequence), and ``n_database`` (``None``: MMseqs2 does not report it)
        and ``iterations``.
    """
    exe = find_mmseqs()
    kind = database_kind(database)  # also checks that the database is FASTA before MMseqs2 starts
    # MMseqs2 keeps at most --max-seqs prefilter hits per query; keep room for the filters that follow
    max_seqs = max(1000, 2 * max_hits) if max_hits else 10000
    with tempfile.TemporaryDirectory(prefix="protlm-mmseqs-") as tmp:
        tmp = Path(tmp)
        (tmp / "query.fasta").write_text(f">query\n{query}\n")
        cmd = [exe, "easy-search", str(tmp / "query.fasta"), os.fspath(database), str(tmp / "hits.m8"), str(tmp / "work"),
               "--format-mode", "0", "--format-output", _FIELDS, "-e", repr(evalue), "--e-profile", repr(evalue),
               "--num-iterations", str(iterations), "-s", str(sensitivity), "--max-seqs", str(max_seqs),
               "--threads", str(threads)]
        log.info("running %s", " ".join(cmd))
        if callback is not None:
            callback(0, 1, stage="mmseqs2")
        proc = subprocess.run(cmd, capture_output=True, text=True)
        log.debug("mmseqs output:\n%s", proc.stdout[-5000:])
        if proc.returncode != 0:
            last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no message"]
            raise SearchError(f"mmseqs easy-search failed (exit {proc.returncode}): {last[0]}")
        lines = (tmp / "hits.m8").read_text().splitlines()
    if callback is not None:
        callback(1, 1, stage="mmseqs2")
    best = {}
    for line in lines:
        target, theader, ev, bits, qstart, qend, tstart, tend, qaln, taln = line.split("\t")
        ev, bits = float(ev), float(bits)
        if target in best and best[target].bits >= bits:
            continue
        id_, accession, taxid, organism = parse_database_header(theader, kind)
        row, q0, q1, t0, t1 = a3m_row(len(query), _columns(qaln, taln, int(qstart)), start=int(tstart))
        identity, coverage = row_stats(query, row)
        best[target] = SearchHit(id_, accession, taxid, organism, theader, ev, bits, identity, coverage, q0, q1, t0, t1, row)
    hits = sorted(best.values(), key=lambda h: (h.evalue, -h.bits))
    log.info("mmseqs2: %d sequences with E <= %g", len(hits), evalue)
    return hits, {"n_database": None, "iterations": iterations, "converged": None}
