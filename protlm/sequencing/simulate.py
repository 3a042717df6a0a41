"""Simulating partial reads from full protein sequences.

A residue of a known type is read with probability ``efficiency`` (a missed
detection shows as ``X``); every other residue, and any non-standard letter,
shows as ``X``.  Proteins can first be cut into peptides: fixed-length pieces
or tryptic peptides (cleavage after K or R, not before P).  An
:class:`~protlm.sequencing.error_model.ErrorModel` adds Edman failures
(shifts), false detections and a read-length limit; the truth is then aligned
to the read (``-`` where a cycle removed nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from protlm.models.alphabet import UNKNOWN, encode_residues, known_vector
from protlm.sequencing.digest import cut_positions
from protlm.sequencing.error_model import ErrorModel
from protlm.sequencing.reads import PartialRead, parse_known

__all__ = ["SimulatedReads", "fragment_sequence", "simulate_reads", "mask_sequence", "sidecar_path"]

def fragment_sequence(sequence: str, fragment, *, min_length: int = 1):
    """Cut a protein into ``(start, stop)`` pieces (0-based, stop exclusive).

    Parameters
    ----------
    sequence : str
    fragment : None, int or "tryptic"
        ``None``: the whole protein; an int: consecutive pieces of that length
        (a shorter last piece is kept if at least ``min_length``); ``"tryptic"``:
        cleavage after K or R unless followed by P.
    min_length : int
        Shorter pieces are dropped.

    Examples
    --------
    >>> fragment_sequence("AAKPAKAAARAA", "tryptic")
    [(0, 6), (6, 10), (10, 12)]
    >>> fragment_sequence("ABCDEFG", 3, min_length=2)
    [(0, 3), (3, 6)]
    """
    n = len(sequence)
    if fragment is None:
        bounds = [(0, n)]
    elif fragment == "tryptic":
        cuts = [0] + cut_positions(sequence, "trypsin") + [n]
        bounds = list(zip(cuts[:-1], cuts[1:]))
    elif isinstance(fragment, (int, np.integer)) and fragment > 0:
        bounds = [(s, min(n, s + int(fragment))) for s in range(0, n, int(fragment))]
    else:
        raise ValueError(f"fragment must be None, a positive length or 'tryptic', not {fragment!r}")
    return [(a, b) for a, b in bounds if b - a >= min_length]


def mask_sequence(sequence: str, known: str, *, efficiency: float = 1.0, rng=None) -> str:
    """The partial read of one sequence.

    A residue of the known set is read (with probability ``efficiency``);
    every other position, non-standard letters included, becomes ``X``.

    Parameters
    ----------
    sequence : str
        The full sequence (any case; the read is upper-case).
    known : str
        The known set (validated with :func:`~protlm.sequencing.reads.parse_known`).
    efficiency : float, default 1.0
        Probability that a residue of the known set is read, in (0, 1].
    rng : numpy.random.Generator, optional
        Needed when ``efficiency < 1``.

    Returns
    -------
    str
        The read, as long as ``sequence``.

    Raises
    ------
    ValueError
        ``efficiency`` outside (0, 1], or no ``rng`` when ``efficiency < 1``.
    KnownSetError
        An invalid known set.

    Examples
    --------
    >>> mask_sequence("MKVLCYA", "KCYM")
    'MKXXCYX'
    """
    if not 0.0 < efficiency <= 1.0:
        raise ValueError(f"efficiency must be in (0, 1], not {efficiency}")
    idx = encode_residues(sequence)
    kv = known_vector(parse_known(known))
    readable = (idx >= 0) & kv[np.where(idx >= 0, idx, 0)]
    if efficiency < 1.0:
        if rng is None:
            raise ValueError("an rng is needed when efficiency < 1")
        readable &= rng.random(len(idx)) < efficiency
    out = np.where(readable, np.frombuffer(sequence.upper().encode("ascii", "replace"), dtype=np.uint8), ord(UNKNOWN))
    return out.astype(np.uint8).tobytes().decode("ascii")


@dataclass(frozen=True, eq=False)
class SimulatedReads:
    """Simulated reads and the full sequences they came from (same ids).

    Attributes
    ----------
    reads : tuple of PartialRead
    truths : tuple of str
    info : dict
        Options and counts.
    origins : tuple of (str, int)
        Protein id and 1-based start of each read (written into the truth
        FASTA's headers as ``protein=ID start=N``).
    """

    reads: tuple
    truths: tuple
    info: dict = field(default_factory=dict)
    origins: tuple = ()

    def __len__(self) -> int:
        return len(self.reads)

    def __repr__(self) -> str:
        n_res = sum(len(r) for r in self.reads)
        n_x = sum(r.read.count(UNKNOWN) for r in self.reads)
        return (f"SimulatedReads(n_reads={len(self)}, n_residues={n_res}, unknown_fraction={n_x / max(n_res, 1):.3f}, "
                f"known={self.info.get('known')!r}, efficiency={self.info.get('efficiency')})")

    def to_dataframe(self):
        """One row per read: id, read and truth."""
        import pandas as pd

        return pd.DataFrame({"read_id": [r.id for r in self.reads], "read": [r.read for r in self.reads],
                             "truth": list(self.truths)})

    def write(self, reads_path, truth_path) -> None:
        """Write the reads, the truth FASTA and the sidecar JSON :func:`sidecar_path` (all atomically).

        The sidecar records how the reads were made: seed, known set,
        efficiency, fragmenting options (``fragment``, ``min_length``,
        ``max_reads``), counts, protlm's version and the names of the reads
        and truth files (relative to the sidecar's folder).  It is written
        last, so its presence means both FASTA files are complete.
        """
        import os

        from protlm import __version__
        from protlm.io import FastaRecord, write_fasta
        from protlm.report import write_json
        from protlm.sequencing.reads import write_reads

        write_reads(self.reads, reads_path)
        origins = self.origins or [None] * len(self.reads)
        write_fasta((FastaRecord(r.id, r.id if o is None else f"{r.id} protein={o[0]} start={o[1]}", t)
                     for r, t, o in zip(self.reads, self.truths, origins)), truth_path)
        sidecar = sidecar_path(reads_path)
        here = sidecar.parent
        write_json(sidecar, {"protlm_version": __version__, **self.info,
                             "reads": os.path.relpath(reads_path, here), "truth": os.path.relpath(truth_path, here)})


def sidecar_path(reads_path):
    """Where :meth:`SimulatedReads.write` records the simulation: ``reads.fasta`` -> ``reads.json``.

    Names not ending in ``.fasta`` get ``.json`` appended (``reads.fa`` -> ``reads.fa.json``).

    Parameters
    ----------
    reads_path : str or os.PathLike
        The reads FASTA.

    Returns
    -------
    pathlib.Path
        The sidecar JSON, in the same folder.

    Examples
    --------
    >>> sidecar_path("out/reads.fasta").as_posix(), sidecar_path("r.fa").name
    ('out/reads.json', 'r.fa.json')
    """
    from pathlib import Path

    path = Path(reads_path)
    stem = path.name[: -len(".fasta")] if path.name.endswith(".fasta") else path.name
    return path.with_name(stem + ".json")


def simulate_reads(records, *, known: str, efficiency: float = 1.0, fragment=None, min_length: int = 6,
                   max_reads=None, errors: ErrorModel | None = None, seed: int = 0) -> SimulatedReads:
    """Make partial reads from full sequences.

    Parameters
    ----------
    records : iterable
        Objects with ``id`` and ``sequence`` (e.g. :class:`protlm.io.FastaRecord`)
        or ``(id, sequence)`` pairs.
    known : str
        Residue types the sequencer reads, e.g. ``"KCYM"``.
    efficiency : float
        Probability that a residue of a known type is detected, in (0, 1].
    fragment : None, int or "tryptic"
        See :func:`fragment_sequence`.  Fragment ids are ``ID/START-END``
        (1-based, inclusive).
    min_length : int
        Shorter fragments are dropped (counted in ``info``).
    max_reads : int, optional
        Stop after this many reads.
    errors : ErrorModel, optional
        Edman failures, false detections and read length (default: none).
        With errors the truth is aligned to the read (``-`` at failed cycles)
        and truncated with it.
    seed : int
        Seeds the missed detections and the errors.

    Examples
    --------
    >>> sim = simulate_reads([("p1", "MKVLCYAKR")], known="KCYM")
    >>> sim.reads[0].read, sim.truths[0]
    ('MKXXCYXKX', 'MKVLCYAKR')
    >>> shifted = simulate_reads([("p1", "MKVLCYAKR")], known="KCYM", errors=ErrorModel(edman_failure=0.5), seed=2)
    >>> shifted.truths[0].replace("-", "")
    'MKVLCYAKR'
    """
    known = parse_known(known)
    if not 0.0 < efficiency <= 1.0:
        raise ValueError(f"efficiency must be in (0, 1], not {efficiency}")
    errors = errors or ErrorModel()
    rng = np.random.default_rng(seed)
    reads, truths, origins = [], [], []
    n_proteins = n_short = 0
    for rec in records:
        rid, seq = (rec.id, rec.sequence) if hasattr(rec, "sequence") else rec
        seq = seq.upper()
        n_proteins += 1
        pieces = fragment_sequence(seq, fragment, min_length=1)
        for a, b in pieces:
            if b - a < min_length:
                n_short += 1
                continue
            sub = seq[a:b]
            pid = rid if fragment is None else f"{rid}/{a + 1}-{b}"
            read, truth = errors.apply(mask_sequence(sub, known, efficiency=efficiency, rng=rng), sub, known, rng)
            reads.append(PartialRead(pid, read, f"{pid} known={known} efficiency={efficiency:g}"))
            truths.append(truth)
            origins.append((rid, a + 1))
            if max_reads is not None and len(reads) >= max_reads:
                break
        if max_reads is not None and len(reads) >= max_reads:
            break
    info = dict(known=known, efficiency=efficiency, fragment=fragment, min_length=min_length, max_reads=max_reads,
                seed=seed, n_proteins=n_proteins, n_reads=len(reads), n_too_short=n_short, errors=errors.to_dict())
    return SimulatedReads(tuple(reads), tuple(truths), info, tuple(origins))
