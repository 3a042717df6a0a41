"""Seed tables: what the reference search looks up first, kept next to the reference index.

A read's known letters are encoded (:func:`encode_read`); the index's known
letters of one known set are gathered into sorted tables of triples (a letter,
its next letters within :data:`SEED_SPAN`, the spacings) that
:mod:`protlm.sequencing.reference` and :mod:`protlm.sequencing.identify` look
reads up in (:func:`seed_table`, built once per known set and saved beside the
index file).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Iterable

import numpy as np

from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.index import SEPARATOR, ReferenceIndex
from protlm.sequencing.reads import parse_known

__all__ = ["SEED_SPAN", "SEED_SKIP", "encode_read", "seed_table"]

log = logging.getLogger(__name__)

#: Longest spacing between consecutive letters of a seed.
SEED_SPAN = 64
#: A reference known letter may pair with any of its next SEED_SKIP known letters.
SEED_SKIP = 3
#: Most keys of a direct key -> entries lookup (:meth:`_Seeds.key_bounds`; 8 bytes each).
_MAX_BOUNDS = 1 << 23


def _read_items(reads) -> Iterable[tuple[str, str]]:
    if isinstance(reads, dict):
        yield from reads.items()
        return
    for r in reads:
        if isinstance(r, tuple):
            yield r[0], r[1]
        elif hasattr(r, "read"):  # protlm.sequencing.reads.PartialRead
            yield r.id, r.read
        else:
            yield r.id, r.sequence


def encode_read(read: str, known: str) -> np.ndarray:
    """Observation codes of a validated read: index in ``known`` for a known letter, ``len(known)`` for ``X``.

    Parameters
    ----------
    read : str
        A validated read (upper-case known letters and ``X``; see
        :func:`~protlm.sequencing.reads.validate_read`); any letter outside
        ``known`` is coded as ``X``.
    known : str
        The known set, in the order the codes refer to.

    Returns
    -------
    numpy.ndarray
        Shape (len(read),) int64, values 0 to ``len(known)``.

    Examples
    --------
    >>> encode_read("KXXCX", "KCYM").tolist()
    [0, 4, 4, 1, 4]
    """
    lut = np.full(256, len(known), dtype=np.int64)
    for j, a in enumerate(known):
        lut[ord(a)] = j
    return lut[np.frombuffer(read.encode("ascii"), dtype=np.uint8)]


class _Seeds:
    """Sorted triple and letter tables of one known set over one index."""

    def __init__(self, index: ReferenceIndex, known: str, *, build: bool = True):
        self.k = len(known)
        self.known = known
        self._bounds = None
        self._entry_seq = None
        if build:
            self._build(index, known)

    def _build(self, index: ReferenceIndex, known: str):
        t0 = time.perf_counter()
        k = self.k
        lut = np.full(SEPARATOR + 1, -1, dtype=np.int64)
        for j, a in enumerate(known):
            lut[AMINO_ACIDS.index(a)] = j
        lut[SEPARATOR] = k  # barrier
        cls = lut[index.residues]
        pos = np.flatnonzero(cls >= 0)
        pc = cls[pos]
        self.letter_pos = [pos[pc == j] for j in range(k)]
        keys, starts = [], []
        n = len(pos)
        D = SEED_SPAN
        # number of separators up to each listed position: a triple lies in one
        # sequence when no separator falls between its first and last letter
        n_sep = np.cumsum(pc == k)
        for s1 in range(1, SEED_SKIP + 1):
            for s2 in range(1, SEED_SKIP + 1):
                m = n - s1 - s2
                if m <= 0:
                    continue
                a, b, c = pos[:m], pos[s1 : s1 + m], pos[s1 + s2 : s1 + s2 + m]
                d1, d2 = b - a, c - b
                sel = np.flatnonzero((d1 < D) & (d2 < D) & (n_sep[:m] == n_sep[s1 + s2 : s1 + s2 + m]) & (pc[:m] < k))
                keys.append(self._key(pc[sel], pc[sel + s1], pc[sel + s1 + s2], d1[sel], d2[sel]))
                starts.append(a[sel])
        keys = np.concatenate(keys) if keys else np.zeros(0, np.int32)
        starts = np.concatenate(starts) if starts else np.zeros(0, np.int64)
        order = np.argsort(keys)
        self.keys = keys[order]
        self.starts = starts[order].astype(np.int32 if len(index.residues) < 2**31 else np.int64)
        self.seconds = time.perf_counter() - t0
        log.info("seed table for %s: %d triples in %.2f s", known, len(self.keys), self.seconds)

    def _key(self, ca, cb, cc, d1, d2):
        k, D = self.k, SEED_SPAN
        return ((((ca * k + cb) * k + cc) * D + d1) * D + d2).astype(np.int32)


    def key_bounds(self) -> np.ndarray:
        """Where each key's entries start in :attr:`keys` (``n_keys + 1`` int64; empty when the key space is too big).

        A direct lookup (two reads per seed) instead of binary searches over the
        table, whose cache misses dominate a long read's seed lookup.  Computed
        once, kept in memory (8 bytes per possible key: 2 MB for 4 known
        letters, 24 MB for 9; none above :data:`_MAX_BOUNDS` keys).
        """
        if self._bounds is None:
            n_keys = self.k ** 3 * SEED_SPAN * SEED_SPAN
            self._bounds = (np.searchsorted(self.keys, np.arange(n_keys + 1, dtype=np.int64)).astype(np.int64)
                            if n_keys <= _MAX_BOUNDS else np.zeros(0, np.int64))
        return self._bounds

    def entry_sequences(self, index: ReferenceIndex) -> np.ndarray:
        """The sequence of each table entry (its index in ``index``; int32, in :attr:`starts` order).

        Computed once, kept in memory (4 bytes per entry): the search then reads a hit's sequence
        next to its start instead of looking it up among the sequence starts.
        """
        if getattr(self, "_entry_seq", None) is None:
            self._entry_seq = (np.searchsorted(index.starts, self.starts, side="right") - 1).astype(np.int32)
        return self._entry_seq

    def _stamp(self, index: ReferenceIndex) -> np.ndarray:
        """What the table depends on: the index's content and the seed parameters."""
        desc = json.dumps([self.known, SEED_SPAN, SEED_SKIP, index.n_residues, index.n_sequences, index.fingerprint,
                           index.source])
        return np.frombuffer(desc.encode(), dtype=np.uint8)

    def save(self, path, index: ReferenceIndex) -> None:
        from protlm.io.atomic import atomic_write

        with atomic_write(path, "wb") as fh:
            np.savez(fh, stamp=self._stamp(index), keys=self.keys, starts=self.starts,
                     letter_pos=np.concatenate(self.letter_pos),
                     letter_counts=np.array([len(p) for p in self.letter_pos], dtype=np.int64))

    @classmethod
    def load(cls, path, index: ReferenceIndex, known: str):
        """The table saved at ``path``, or None when missing, unreadable or built for another index."""
        self = cls(index, known, build=False)
        try:
            with np.load(path, allow_pickle=False) as z:
                if not np.array_equal(z["stamp"], self._stamp(index)):
                    return None
                self.keys, self.starts = z["keys"], z["starts"]
                self.letter_pos = np.split(z["letter_pos"], np.cumsum(z["letter_counts"])[:-1])
        except (OSError, ValueError, KeyError):
            return None
        self.seconds = 0.0
        return self


def seed_table(index: ReferenceIndex, known: str) -> _Seeds:
    """The seed table of ``known``: in memory, else next to the index file, else built (and saved there).

    The file ``INDEX.seeds-KNOWN.npz`` is used only while it matches the index
    (content fingerprint and seed parameters).  An index without a file
    (built in memory) keeps its table in memory only; a folder that cannot be
    written to is logged at debug level and the table is not saved.

    Parameters
    ----------
    index : ReferenceIndex
        The index to search; the table is cached on it.
    known : str
        The known set (validated with :func:`~protlm.sequencing.reads.parse_known`).

    Returns
    -------
    _Seeds
        The sorted seed and letter tables of ``known`` over ``index``.

    Raises
    ------
    KnownSetError
        An invalid known set.
    """
    known = parse_known(known)
    key = ("seeds", known)
    if key in index._cache:
        return index._cache[key]
    path = index.path
    beside = path.with_name(f"{path.name}.seeds-{known}.npz") if path is not None else None
    seeds = _Seeds.load(beside, index, known) if beside is not None and beside.is_file() else None
    if seeds is None:
        seeds = _Seeds(index, known)
        if beside is not None:
            try:
                seeds.save(beside, index)
            except OSError as exc:
                log.debug("cannot cache the seed table in %s: %s", beside, exc)
    else:
        log.info("seed table for %s from %s", known, beside)
    index._cache[key] = seeds
    return seeds
