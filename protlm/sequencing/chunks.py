"""Scatter and gather of the identification: reads searched in chunks, q-values computed once over all.

The target-decoy search of a read does not depend on the other reads, but its
q-value does: ``FDR(t)`` counts the targets and decoys of *every* read scoring
at least ``t``.  So ``protlm sequence --chunk I/N`` searches one contiguous
chunk of the reads (:func:`chunk_bounds`) and writes only the raw search
results, :class:`ReadScores` (``scores.tsv``); ``protlm sequence --gather``
concatenates the chunks' scores (:func:`gather_scores`, which checks that
they cover the reads exactly once, in order, against the same index), and
:func:`~protlm.sequencing.identify.identify_reads` computes the q-values, the
explained p-values and the alignments of the identified reads from them, as
an unchunked run does.  The outputs are the same files with the same values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from protlm.errors import ChunkError

__all__ = ["ReadScores", "chunk_bounds", "parse_chunk", "read_scores", "gather_scores", "SCORES_FILE"]

#: File of one chunk's search results in its output folder.
SCORES_FILE = "scores.tsv"
#: Per-read search counts (see :data:`protlm.sequencing._identify_kernels.COUNT_COLUMNS`).
_COUNTS = ("seq", "start", "hi", "lo", "n_letters", "n_wrong", "n_ref_known", "n_missed")
_FLOAT = "%.17g"  # float64 written so that it reads back bit for bit


def parse_chunk(text: str) -> tuple[int, int]:
    """``"I/N"`` -> ``(I, N)``, 1 <= I <= N.

    Parameters
    ----------
    text : str
        Chunk I of N, 1-based, as ``--chunk`` takes it.

    Returns
    -------
    tuple of int

    Raises
    ------
    ChunkError
        If ``text`` is not ``I/N`` with 1 <= I <= N.

    Examples
    --------
    >>> parse_chunk("2/3")
    (2, 3)
    """
    try:
        i, n = (int(v) for v in str(text).split("/"))
    except ValueError:
        raise ChunkError(f"chunk {text!r}: give I/N, e.g. 1/4 (chunk I of N, 1-based)") from None
    if not 1 <= i <= n:
        raise ChunkError(f"chunk {text!r}: I must be between 1 and N")
    return i, n


def chunk_bounds(n_reads: int, chunk: int, n_chunks: int) -> tuple[int, int]:
    """Reads ``[lo, hi)`` of chunk ``chunk`` (1-based) of ``n_chunks`` contiguous chunks of near-equal size.

    Parameters
    ----------
    n_reads : int
        Reads in the whole file.
    chunk, n_chunks : int
        Chunk I of N, 1-based.

    Returns
    -------
    tuple of int
        ``(lo, hi)``: 0-based, ``hi`` exclusive; the chunks tile ``[0, n_reads)`` in order.

    Examples
    --------
    >>> [chunk_bounds(10, i, 3) for i in (1, 2, 3)]
    [(0, 3), (3, 6), (6, 10)]
    """
    if not 1 <= chunk <= n_chunks:
        raise ChunkError(f"chunk {chunk}/{n_chunks}: I must be between 1 and N")
    return n_reads * (chunk - 1) // n_chunks, n_reads * chunk // n_chunks


@dataclass(frozen=True, eq=False)
class ReadScores:
    """Raw target-decoy search results of reads, before any q-value.

    Attributes
    ----------
    read_ids : tuple of str
    score : numpy.ndarray
        Best alignment score of each read over targets and decoys (nats; -inf: no candidate).
    decoy : numpy.ndarray of bool
        Whether that best alignment is to a decoy.
    runner : numpy.ndarray
        Best score of another target whose residues under the alignment differ (-inf: none).
    counts : numpy.ndarray
        ``(n, 8)`` int64: winning sequence, start, diagonal range and the error counts
        of the alignment (-1 when none).
    info : dict
        What the search was told (``known``, ``efficiency``, ``errors``), the
        index it ran against (``reference``, ``reference_sequences``,
        ``reference_residues``, ``decoys``) and the chunk (``chunk``, ``n_chunks``,
        ``first_read``).
    competitors : numpy.ndarray or None
        Log of the summed likelihood ratios of the read's other candidates, targets and decoys (searched with a
        digest; -inf: none), for :func:`~protlm.sequencing.identify_model.posterior_scores`.  None: all -inf.
    """

    read_ids: tuple
    score: np.ndarray
    decoy: np.ndarray
    runner: np.ndarray
    counts: np.ndarray
    info: dict = field(default_factory=dict)
    competitors: np.ndarray | None = None

    def __post_init__(self):
        if self.competitors is None:
            object.__setattr__(self, "competitors", np.full(len(self.read_ids), -np.inf))

    def __len__(self) -> int:
        return len(self.read_ids)

    def __repr__(self) -> str:
        return f"ReadScores({len(self)} reads, {int(np.isfinite(self.score).sum())} with candidates)"

    def write(self, path) -> None:
        """Write the scores TSV atomically: a ``# {json info}`` line, then one row per read."""
        from protlm.io.atomic import atomic_write

        with atomic_write(path) as fh:
            fh.write("# " + json.dumps(self.info, sort_keys=True) + "\n")
            fh.write("\t".join(("read_id", "score", "decoy", "runner", "competitors") + _COUNTS) + "\n")
            for k, rid in enumerate(self.read_ids):
                row = [rid, _FLOAT % self.score[k], str(int(self.decoy[k])), _FLOAT % self.runner[k],
                       _FLOAT % self.competitors[k]]
                fh.write("\t".join(row + [str(int(v)) for v in self.counts[k]]) + "\n")

    def check(self, read_ids, index, *, known: str, efficiency: float, errors: dict, digest: str | None = None,
              search: dict | None = None) -> None:
        """Raise :class:`~protlm.errors.ChunkError` unless these scores are of ``read_ids`` searched like this.

        Parameters
        ----------
        read_ids : sequence of str
            The reads being identified, in order.
        index : ReferenceIndex
            The index being identified against.
        known, efficiency, errors, digest
            The identification's options (``errors`` as ``ErrorModel.to_dict()``).
        search : dict, optional
            The search's settings (checked when given: chunks searched by
            another version of the search are not gathered).
        """
        read_ids = tuple(read_ids)
        if read_ids != self.read_ids:
            if len(read_ids) != len(self.read_ids):
                raise ChunkError(f"scores of {len(self.read_ids)} reads given for {len(read_ids)} reads")
            k = next(j for j, (a, b) in enumerate(zip(read_ids, self.read_ids)) if a != b)
            raise ChunkError(f"read {k + 1}: {read_ids[k]!r} in the reads but {self.read_ids[k]!r} in the scores")
        want = {"known": known, "efficiency": float(efficiency), "errors": errors,
                "reference_sequences": index.n_sequences, "reference_residues": index.n_residues,
                "decoys": index.decoy_method, "digest": digest}
        if search is not None:
            want["search"] = search
        for key, value in want.items():
            if self.info.get(key) != value:
                raise ChunkError(f"the scores were computed with {key} = {self.info.get(key)!r}, this run has {value!r}")


def read_scores(path) -> ReadScores:
    """Read a scores TSV written by :meth:`ReadScores.write`.

    Parameters
    ----------
    path : str or os.PathLike
        The ``scores.tsv`` of a ``protlm sequence --chunk`` run.

    Returns
    -------
    ReadScores

    Raises
    ------
    ChunkError
        If the file is not a scores file (its line number is named).

    Examples
    --------
    >>> import os, tempfile
    >>> s = ReadScores(("r1",), np.array([3.25]), np.array([False]), np.array([-np.inf]),
    ...                np.array([[0, 4, 0, 1, 5, 0, 6, 1]]), {"chunk": 1})
    >>> p = os.path.join(tempfile.mkdtemp(), "scores.tsv")
    >>> s.write(p)
    >>> back = read_scores(p)
    >>> back.read_ids, float(back.score[0]), back.counts[0].tolist(), back.info
    (('r1',), 3.25, [0, 4, 0, 1, 5, 0, 6, 1], {'chunk': 1})
    """
    ids, score, decoy, runner, competitors, counts = [], [], [], [], [], []
    with open(path, encoding="utf-8") as fh:
        first = fh.readline()
        if not first.startswith("# "):
            raise ChunkError(f"{path}, line 1: not a protlm scores file (expected '# {{...}}' from `protlm sequence --chunk`)")
        try:
            info = json.loads(first[2:])
        except ValueError:
            raise ChunkError(f"{path}, line 1: the info line is not JSON") from None
        fh.readline()
        for line_no, line in enumerate(fh, start=3):
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 4 + len(_COUNTS):  # before the competitors column
                raise ChunkError(f"{path}, line {line_no}: scores of an older protlm (no competitors column); "
                                 "search the chunks again with this version")
            if len(parts) != 5 + len(_COUNTS):
                raise ChunkError(f"{path}, line {line_no}: {len(parts)} columns, expected {5 + len(_COUNTS)}")
            try:
                score.append(float(parts[1]))
                decoy.append(parts[2] == "1")
                runner.append(float(parts[3]))
                competitors.append(float(parts[4]))
                counts.append([int(v) for v in parts[5:]])
            except ValueError:
                raise ChunkError(f"{path}, line {line_no}: a score or count is not a number") from None
            ids.append(parts[0])
    return ReadScores(tuple(ids), np.array(score, dtype=np.float64), np.array(decoy, dtype=bool),
                      np.array(runner, dtype=np.float64),
                      np.array(counts, dtype=np.int64).reshape(len(ids), len(_COUNTS)), info,
                      np.array(competitors, dtype=np.float64))


def gather_scores(paths) -> ReadScores:
    """Concatenate the chunks' scores in chunk order, checking that they are chunks 1..N of one run.

    Parameters
    ----------
    paths : sequence of path
        Scores files, or the output folders of ``protlm sequence --chunk`` holding them, in any order.

    Returns
    -------
    ReadScores
        All reads, in the order of the reads file; ``info`` of the run without the chunk fields.

    Raises
    ------
    ChunkError
        If a chunk is missing or given twice, or the chunks were searched differently.
    """
    from pathlib import Path

    parts = []
    for p in paths:
        p = Path(p)
        parts.append(read_scores(p / SCORES_FILE if p.is_dir() else p))
    if not parts:
        raise ChunkError("no chunk scores given")
    n_chunks = parts[0].info.get("n_chunks")
    found = sorted(s.info.get("chunk") for s in parts)
    if found != list(range(1, (n_chunks or 0) + 1)):
        raise ChunkError(f"chunks {found} given; need each of 1..{n_chunks} once")
    parts.sort(key=lambda s: s.info["chunk"])
    strip = ("chunk", "first_read", "seconds")
    base = {k: v for k, v in parts[0].info.items() if k not in strip}
    for s in parts[1:]:
        other = {k: v for k, v in s.info.items() if k not in strip}
        if other != base:
            diff = sorted(k for k in set(base) | set(other) if base.get(k) != other.get(k))
            raise ChunkError(f"chunk {s.info['chunk']} was searched with other {', '.join(diff)} than chunk 1")
        if s.info.get("first_read") != parts[0].info.get("first_read", 0) + sum(len(t) for t in parts if
                                                                              t.info["chunk"] < s.info["chunk"]):
            raise ChunkError(f"chunk {s.info['chunk']} does not start where chunk {s.info['chunk'] - 1} ends")
    return ReadScores(tuple(r for s in parts for r in s.read_ids), np.concatenate([s.score for s in parts]),
                      np.concatenate([s.decoy for s in parts]), np.concatenate([s.runner for s in parts]),
                      np.concatenate([s.counts for s in parts]), base, np.concatenate([s.competitors for s in parts]))
