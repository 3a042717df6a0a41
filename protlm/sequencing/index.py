"""A reusable index of a reference proteome (plain or gzipped FASTA): building it, and finding or caching it.

The index holds every reference sequence as one array of residue codes (the
20 standard residues in :data:`~protlm.models.alphabet.AMINO_ACIDS` order,
:data:`OTHER` for any other letter, :data:`SEPARATOR` between sequences),
their identifiers, descriptions and offsets, the residue frequencies, and a
fingerprint of the FASTA it came from, and one decoy per sequence (the
sequence reversed, or shuffled) for target-decoy identification
(:mod:`protlm.sequencing.identify`); the data structure and its file format
are :mod:`protlm.sequencing.index_format` (re-exported here).  It does not
depend on the known set: the seed tables that
:mod:`protlm.sequencing.reference` searches with are derived from it per
known set, in memory, in about a second.

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
import logging
import os
from pathlib import Path

import numpy as np

from protlm.errors import FormatError, IndexMismatchError, ReferenceNotFoundError
from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.index_format import (DECOY_PREFIX, OTHER, SEPARATOR, ReferenceIndex, _is_index_file,
                                            fingerprint_file, load_index)

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

#: How decoys are made from the reference sequences.
DECOY_METHODS = ("reverse", "shuffle")
#: Residues per block of :func:`make_decoys` and of the composition count (bounds their working memory).
_DECOY_BLOCK = 1 << 20
_SUFFIX = ".protlm-index.npz"

# bytes.translate table: ASCII -> residue code; gaps are deleted.
_TRANSLATE = bytearray([OTHER] * 256)
for _i, _a in enumerate(AMINO_ACIDS):
    _TRANSLATE[ord(_a)] = _i
    _TRANSLATE[ord(_a.lower())] = _i
_TRANSLATE = bytes(_TRANSLATE)
_DELETE = b"-."


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


