"""A reusable index of a reference proteome (plain or gzipped FASTA).

The index holds every reference sequence as one array of residue codes (the
20 standard residues in :data:`~protlm.models.alphabet.AMINO_ACIDS` order,
:data:`OTHER` for any other letter, :data:`SEPARATOR` between sequences),
their identifiers, descriptions and offsets, the residue frequencies, and a
fingerprint of the FASTA it came from, and one decoy per sequence (the
sequence reversed, or shuffled) for target-decoy identification
(:mod:`protlm.sequencing.identify`).  It does not depend on the known set:
the seed tables that :mod:`protlm.sequencing.reference` searches with are
derived from it per known set, in memory, in about a second.

An index is built once and reused, in this order (see :func:`open_reference`):

1. an index file the caller names (``protlm index REF -o INDEX``, then
   ``--index INDEX`` or ``--reference INDEX``);
2. a cache file in protlm's cache folder, ``$PROTLM_CACHE_DIR/index/`` (else
   ``$XDG_CACHE_HOME/protlm/index/``, else ``~/.cache/protlm/index/``).  protlm
   never writes beside the reference, so references in read-only or shared
   folders work as they are.

A cached index is used only while its fingerprint (file size, modification
time and SHA-256 of the first MiB) matches the reference; otherwise it is
rebuilt and rewritten (to a temporary file, then renamed, so two processes
building the same entry at once each leave a whole file).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from protlm.errors import FormatError, IndexMismatchError, ReferenceNotFoundError
from protlm.io.atomic import atomic_write
from protlm.models.alphabet import AMINO_ACIDS

__all__ = [
    "ReferenceIndex",
    "IndexMismatchError",
    "OTHER",
    "SEPARATOR",
    "build_index",
    "load_index",
    "open_reference",
    "fingerprint_file",
    "default_cache_paths",
    "DECOY_METHODS",
    "make_decoys",
    "DECOY_PREFIX",
]

log = logging.getLogger(__name__)

#: Code of a residue letter outside the 20 standard ones (X, B, Z, U, O, ``*``).
OTHER = 20
#: Code placed between (and around) reference sequences.
SEPARATOR = 21

INDEX_FORMAT = "protlm-reference-index"
INDEX_VERSION = 2
#: How decoys are made from the reference sequences.
DECOY_METHODS = ("reverse", "shuffle")
#: Residues per block of :func:`make_decoys` and of the composition count (bounds their working memory).
_DECOY_BLOCK = 1 << 20
#: Prefix of a decoy's identifier.
DECOY_PREFIX = "decoy_"
_HEAD_BYTES = 1 << 20
_SUFFIX = ".protlm-index.npz"

# bytes.translate table: ASCII -> residue code; gaps are deleted.
_TRANSLATE = bytearray([OTHER] * 256)
for _i, _a in enumerate(AMINO_ACIDS):
    _TRANSLATE[ord(_a)] = _i
    _TRANSLATE[ord(_a.lower())] = _i
_TRANSLATE = bytes(_TRANSLATE)
_DELETE = b"-."


def fingerprint_file(path) -> dict:
    """What identifies a reference file's content cheaply.

    Size, modification time (ns) and the SHA-256 of the first MiB: any edit,
    replacement or touch of the file changes it.

    Parameters
    ----------
    path : str or os.PathLike
        The reference file.

    Returns
    -------
    dict
        ``size`` (bytes), ``mtime_ns`` and ``head_sha256`` (hex digest).

    Raises
    ------
    OSError
        If the file cannot be read (e.g. :class:`FileNotFoundError`).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "r.fasta")
    >>> _ = open(p, "w").write(">a\\nKCYM\\n")
    >>> sorted(fingerprint_file(p))
    ['head_sha256', 'mtime_ns', 'size']
    """
    st = os.stat(path)
    with open(path, "rb") as fh:
        head = hashlib.sha256(fh.read(_HEAD_BYTES)).hexdigest()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "head_sha256": head}


@dataclass(frozen=True, eq=False)
class ReferenceIndex:
    """Reference sequences in one residue-code array, with identifiers and offsets.

    Attributes
    ----------
    ids, descriptions : tuple of str
        Identifier and full header of each reference sequence.
    starts, lengths : numpy.ndarray
        Offset in :attr:`residues` and length of each sequence (int64).
    residues : numpy.ndarray
        uint8 codes: 0-19 residues, :data:`OTHER`, :data:`SEPARATOR`.
    frequencies : numpy.ndarray
        Frequency of each of the 20 residues over the reference (float64).
    source : str
        The FASTA the index was built from.
    fingerprint : dict or None
        :func:`fingerprint_file` of ``source`` at build time (None for a handle).
    decoy_residues : numpy.ndarray or None
        The decoys, laid out as :attr:`residues` (same starts and lengths).
    decoy_method : str or None
        One of :data:`DECOY_METHODS` (None: no decoys).
    """

    ids: tuple
    descriptions: tuple
    starts: np.ndarray
    lengths: np.ndarray
    residues: np.ndarray
    frequencies: np.ndarray
    source: str
    fingerprint: dict | None
    decoy_residues: np.ndarray | None = field(default=None, repr=False)
    decoy_method: str | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def decoys(self) -> "ReferenceIndex":
        """The decoy sequences as an index of their own (ids prefixed with :data:`DECOY_PREFIX`).

        Raises
        ------
        IndexMismatchError
            When the index was built without decoys.
        """
        if self.decoy_residues is None:
            raise IndexMismatchError(f"{self.source}: index built without decoys; rebuild it with `protlm index`")
        if "decoys" not in self._cache:
            decoys = ReferenceIndex(ids=tuple(DECOY_PREFIX + i for i in self.ids), descriptions=self.descriptions,
                                    starts=self.starts, lengths=self.lengths, residues=self.decoy_residues,
                                    frequencies=self.frequencies, source=f"{self.source} ({self.decoy_method} decoys)",
                                    fingerprint=self.fingerprint)
            if self.path is not None:  # seed tables of the decoys are cached beside the index too
                decoys._cache["path"] = self.path.with_name(self.path.name + ".decoys")
            self._cache["decoys"] = decoys
        return self._cache["decoys"]

    @property
    def n_sequences(self) -> int:
        """Number of reference sequences."""
        return len(self.ids)

    @property
    def n_residues(self) -> int:
        """Residues in all sequences (separators not counted)."""
        return int(self.lengths.sum())

    def __len__(self) -> int:
        return self.n_sequences

    def __repr__(self) -> str:
        return f"ReferenceIndex({self.n_sequences} sequences, {self.n_residues} residues, source={self.source!r})"

    def sequence(self, i: int) -> str:
        """The residues of sequence ``i`` as a string (``X`` for non-standard letters)."""
        s, n = int(self.starts[i]), int(self.lengths[i])
        return "".join((AMINO_ACIDS + "X")[c] for c in self.residues[s : s + n].tolist())

    def sequence_of(self, positions) -> np.ndarray:
        """Index of the sequence holding each position of :attr:`residues`."""
        return np.searchsorted(self.starts, positions, side="right") - 1

    def matches(self, reference) -> bool:
        """Whether this index still describes the FASTA file ``reference``."""
        if self.fingerprint is None:
            return False
        try:
            return fingerprint_file(reference) == self.fingerprint
        except OSError:
            return False

    def save(self, path) -> Path:
        """Write the index to ``path`` (an uncompressed ``.npz``), atomically."""
        path = Path(path)
        meta = {
            "format": INDEX_FORMAT,
            "version": INDEX_VERSION,
            "source": self.source,
            "fingerprint": self.fingerprint,
            "decoy_method": self.decoy_method,
        }
        with atomic_write(path, "wb") as fh:
            np.savez(
                fh,
                meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                ids=np.frombuffer("\n".join(self.ids).encode(), dtype=np.uint8),
                descriptions=np.frombuffer("\n".join(self.descriptions).encode(), dtype=np.uint8),
                starts=self.starts,
                lengths=self.lengths,
                residues=self.residues,
                frequencies=self.frequencies,
                **({} if self.decoy_residues is None else {"decoy_residues": self.decoy_residues}),
            )
        self._cache["path"] = path
        self._cache.pop("decoys", None)
        return path

    @property
    def path(self) -> Path | None:
        """The index file this index was loaded from or saved to (None if only in memory)."""
        return self._cache.get("path")


def _split_lines(arr: np.ndarray, n: int) -> tuple:
    if n == 0:
        return ()
    return tuple(arr.tobytes().decode().split("\n"))


def load_index(path, *, reference=None) -> ReferenceIndex:
    """Read an index written by :meth:`ReferenceIndex.save`.

    Parameters
    ----------
    path : str or os.PathLike
        The index file.
    reference : str or os.PathLike, optional
        When given, the index must have been built from this file as it is
        now (same fingerprint).

    Raises
    ------
    IndexMismatchError
        Not a protlm index, another format version, or built from another
        (or a since-modified) reference.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            if meta.get("format") != INDEX_FORMAT:
                raise KeyError("format")
            arrays = {k: z[k] for k in ("ids", "descriptions", "starts", "lengths", "residues", "frequencies")}
            decoy_residues = z["decoy_residues"] if "decoy_residues" in z.files else None
    except FileNotFoundError:
        raise IndexMismatchError(f"{path}: index file does not exist") from None
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        raise IndexMismatchError(f"{path}: not a protlm reference index (build one with `protlm index REF -o INDEX`)") from None
    if meta.get("version") != INDEX_VERSION:
        raise IndexMismatchError(
            f"{path}: index format version {meta.get('version')}, this protlm reads {INDEX_VERSION}; rebuild it with `protlm index`"
        )
    n = len(arrays["starts"])
    index = ReferenceIndex(
        ids=_split_lines(arrays["ids"], n),
        descriptions=_split_lines(arrays["descriptions"], n),
        starts=arrays["starts"],
        lengths=arrays["lengths"],
        residues=arrays["residues"],
        frequencies=arrays["frequencies"],
        source=meta["source"],
        fingerprint=meta["fingerprint"],
        decoy_residues=decoy_residues,
        decoy_method=meta.get("decoy_method") if decoy_residues is not None else None,
    )
    index._cache["path"] = path
    if reference is not None and not index.matches(reference):
        raise IndexMismatchError(
            f"{path}: built from {index.source}, which does not match {os.fspath(reference)} as it is now "
            "(file changed since); rebuild with `protlm index`"
        )
    return index


def make_decoys(residues: np.ndarray, starts: np.ndarray, lengths: np.ndarray, *, method: str = "reverse",
                seed: int = 0) -> np.ndarray:
    """Decoy residues laid out like ``residues``: each sequence reversed, or shuffled.

    Reversed decoys keep each sequence's composition and the spacing
    statistics of its letters; shuffled ones (seeded) keep only the
    composition.

    Parameters
    ----------
    residues : numpy.ndarray
        The concatenated residue codes of all sequences (separators included).
    starts, lengths : numpy.ndarray
        Start in ``residues`` and length of each sequence.
    method : {"reverse", "shuffle"}, default "reverse"
        One of :data:`DECOY_METHODS`.
    seed : int, default 0
        Seed of ``"shuffle"`` (ignored by ``"reverse"``).

    Returns
    -------
    numpy.ndarray
        A copy of ``residues`` with each sequence's residues replaced by its
        decoy's; everything outside the sequences is unchanged.

    Raises
    ------
    ValueError
        An unknown ``method``.

    Examples
    --------
    >>> res = np.array([21, 0, 1, 2, 21, 3, 4, 21], dtype=np.uint8)
    >>> make_decoys(res, np.array([1, 5]), np.array([3, 2])).tolist()
    [21, 2, 1, 0, 21, 4, 3, 21]
    """
    if method not in DECOY_METHODS:
        raise ValueError(f"decoy method {method!r}: use one of {', '.join(DECOY_METHODS)}")
    decoys = residues.copy()
    rng = np.random.default_rng(seed) if method == "shuffle" else None
    # sequences in blocks of about _DECOY_BLOCK residues, so the int64 work arrays stay small (a few bytes per
    # residue over the residues and decoys themselves); the random stream is the same as in one block
    bounds = np.searchsorted(np.cumsum(lengths), np.arange(_DECOY_BLOCK, int(lengths.sum()), _DECOY_BLOCK))
    for a, b in zip(np.r_[0, bounds], np.r_[bounds, len(lengths)]):
        if b <= a:
            continue
        ln, st = lengths[a:b], starts[a:b]
        seq_of = np.repeat(np.arange(b - a), ln)
        pos = np.arange(int(ln.sum())) - np.repeat(np.cumsum(ln) - ln, ln)  # offset in its sequence
        src = st[seq_of] + pos  # where each residue is in ``residues``
        if rng is None:
            take = st[seq_of] + ln[seq_of] - 1 - pos
        else:
            take = src[np.lexsort((rng.random(len(src)), seq_of))]
        decoys[src] = residues[take]
    return decoys


def build_index(reference, *, decoys: str | None = "reverse", callback=None) -> ReferenceIndex:
    """Index a reference FASTA (plain, gzip or bz2; UniProt, UniRef or any proteome).

    Parameters
    ----------
    reference : str, os.PathLike or file handle
        The FASTA.  Gap characters (``-``, ``.``) are removed; letters outside
        the 20 standard residues are kept as :data:`OTHER`.
    decoys : str or None
        ``"reverse"`` (default) or ``"shuffle"`` (seed 0): one decoy per
        sequence, stored in the index (:func:`make_decoys`); None: no decoys.
    callback : callable, optional
        Called as ``callback(n_sequences_done, None)`` every 10,000 sequences.

    Returns
    -------
    ReferenceIndex

    Raises
    ------
    protlm.errors.FastaFormatError
        On malformed FASTA, naming file, record and line.
    protlm.errors.FormatError
        If the FASTA holds no sequence.

    Examples
    --------
    >>> import io
    >>> idx = build_index(io.StringIO(">a\\nMKCW\\n>b\\nACDY\\n"))
    >>> idx
    ReferenceIndex(2 sequences, 8 residues, source='<handle>')
    >>> idx.sequence(1), idx.decoys().sequence(1), idx.decoys().ids[1]
    ('ACDY', 'YDCA', 'decoy_b')
    """
    from protlm.io.fasta import iter_fasta
    from protlm.io._open import display_name

    name = display_name(reference)
    fp = fingerprint_file(reference) if isinstance(reference, (str, os.PathLike)) and name != "<stdin>" else None
    ids, descriptions, buf = [], [], bytearray([SEPARATOR])  # one growing buffer: no list of chunks, no join copy
    lengths = []
    sep = bytes([SEPARATOR])
    for i, rec in enumerate(iter_fasta(reference)):
        seq = rec.sequence.encode("ascii", "replace").translate(_TRANSLATE, _DELETE)
        ids.append(rec.id)
        descriptions.append(rec.description.replace("\n", " "))
        buf += seq
        buf += sep
        lengths.append(len(seq))
        if callback is not None and (i + 1) % 10000 == 0:
            callback(i + 1, None)
    if not ids:
        raise FormatError("no sequences in the reference", path=name)
    residues = np.frombuffer(buf, dtype=np.uint8)  # writable view of the bytearray
    lengths = np.asarray(lengths, dtype=np.int64)
    starts = np.empty_like(lengths)
    starts[0] = 1
    starts[1:] = 1 + np.cumsum(lengths[:-1] + 1)
    counts = np.zeros(SEPARATOR + 1, dtype=np.int64)
    for b0 in range(0, len(residues), _DECOY_BLOCK):  # bincount casts to int64: in blocks, not 8 bytes per residue
        counts += np.bincount(residues[b0: b0 + _DECOY_BLOCK], minlength=SEPARATOR + 1)
    counts = counts[:20].astype(np.float64)
    frequencies = (counts + 1.0) / (counts.sum() + 20.0)
    if callback is not None:
        callback(len(ids), len(ids))
    log.info("indexed %s: %d sequences, %d residues", name, len(ids), int(lengths.sum()))
    return ReferenceIndex(
        ids=tuple(ids),
        descriptions=tuple(descriptions),
        starts=starts,
        lengths=lengths,
        residues=residues,
        frequencies=frequencies,
        source=os.path.abspath(reference) if fp is not None else name,
        fingerprint=fp,
        decoy_residues=None if decoys is None else make_decoys(residues, starts, lengths, method=decoys),
        decoy_method=decoys,
    )


def cache_dir() -> Path:
    """protlm's cache folder: ``$PROTLM_CACHE_DIR``, else ``$XDG_CACHE_HOME/protlm``, else ``~/.cache/protlm``.

    Examples
    --------
    >>> import os
    >>> os.environ["PROTLM_CACHE_DIR"] = "/tmp/protlm-cache-example"
    >>> str(cache_dir())
    '/tmp/protlm-cache-example'
    >>> del os.environ["PROTLM_CACHE_DIR"]
    """
    root = os.environ.get("PROTLM_CACHE_DIR")
    if root:
        return Path(root).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "protlm"


def default_cache_paths(reference) -> list[Path]:
    """Where :func:`open_reference` looks for (and writes) a cached index, in order.

    Only protlm's cache folder (:func:`cache_dir`): protlm never writes into the
    folder of a reference unless asked (``protlm index REF -o INDEX``).  The
    file name holds a digest of the reference's absolute path, so two
    references of the same name do not collide; the fingerprint inside decides
    whether the entry still matches the file.

    Parameters
    ----------
    reference : str or os.PathLike
        The reference FASTA (made absolute; it need not exist).

    Returns
    -------
    list of pathlib.Path
        The candidate index files, under ``cache_dir() / "index"``.

    Examples
    --------
    >>> [p.name for p in default_cache_paths("/data/ref.fasta.gz")]
    ['ref.fasta.gz-162effe12c0a.protlm-index.npz']
    """
    ref = Path(os.path.abspath(reference))
    digest = hashlib.sha1(str(ref).encode()).hexdigest()[:12]
    return [cache_dir() / "index" / f"{ref.name}-{digest}{_SUFFIX}"]


def _is_index_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                return False
        with np.load(path, allow_pickle=False) as z:
            return "meta" in z.files and "residues" in z.files
    except (OSError, ValueError):
        return False


def open_reference(reference, *, index=None, cache: bool = True, callback=None) -> ReferenceIndex:
    """The index of ``reference``: loaded when a valid one exists, else built (and cached).

    Parameters
    ----------
    reference : str or os.PathLike
        A FASTA file, or an index file written by ``protlm index``.
    index : str or os.PathLike, optional
        An index file to use; it must match ``reference`` as it is now.
    cache : bool
        Look for and write cache files (see the module docstring).  With
        ``False`` the index is built in memory every time.
    callback : callable, optional
        Passed to :func:`build_index`.

    Returns
    -------
    ReferenceIndex

    Raises
    ------
    IndexMismatchError
        ``index`` was built from another reference, or the reference changed.
    FileNotFoundError
        The reference does not exist.
    """
    ref = Path(reference)
    if index is not None:
        return load_index(index, reference=ref if ref.exists() and not _is_index_file(ref) else None)
    if not ref.exists():
        raise ReferenceNotFoundError(f"{ref}: reference does not exist")
    if _is_index_file(ref):
        return load_index(ref)
    if cache:
        for candidate in default_cache_paths(ref):
            if candidate.is_file():
                try:
                    idx = load_index(candidate, reference=ref)
                except IndexMismatchError as exc:
                    log.info("cached index not usable (%s); rebuilding", exc)
                    continue
                log.info("using cached index %s", candidate)
                return idx
    idx = build_index(ref, callback=callback)
    if cache:
        for candidate in default_cache_paths(ref):
            try:
                idx.save(candidate)
            except OSError as exc:
                log.debug("cannot write index cache %s: %s", candidate, exc)
                continue
            log.info("cached the index in %s", candidate)
            break
    return idx


