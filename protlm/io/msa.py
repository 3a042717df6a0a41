"""The :class:`MSA` object.

Reading and format detection live in :mod:`protlm.io.general`, above the
format modules (which build MSA objects), so no two modules import each other.

An MSA holds identifiers, header lines and the aligned sequences as a
``(n_sequences, n_columns)`` array of ASCII codes (``uint8``).  After reading
with ``keep_insertions=False`` (the default) the columns are match columns
only, letters are uppercase and gaps are ``-``.  With ``keep_insertions=True``
insert columns are kept in A2M style: lowercase letters, padded with ``.``;
:meth:`MSA.drop_insertions` removes them.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import numpy as np

from protlm.errors import AlphabetError, FormatError

__all__ = ["MSA"]

_EMPTY = types.MappingProxyType({})


def _is_gap(arr: np.ndarray) -> np.ndarray:
    return (arr == 45) | (arr == 46)


def _is_lower(arr: np.ndarray) -> np.ndarray:
    return (arr >= 97) & (arr <= 122)


@dataclass(frozen=True, eq=False)
class MSA:
    """A multiple sequence alignment.

    Attributes
    ----------
    ids : tuple of str
        Row identifiers (may be empty or repeated: real A3M files have both).
    descriptions : tuple of str
        Full header lines (without ``>``).
    array : numpy.ndarray
        ``(n_sequences, n_columns)`` ``uint8`` ASCII codes.
    species : tuple of (str or None), optional
        Per-row species key, set by :meth:`with_species`.
    annotations : mapping
        Format-specific extras: ``"header"`` (ColabFold A3M ``#`` line),
        ``"GF"``, ``"GS"``, ``"GC"``, ``"GR"`` (Stockholm).

    Examples
    --------
    >>> msa = MSA.from_sequences(["ACD-", "A-DE"], ids=["q", "h OX=9606"])
    >>> msa
    MSA(n_sequences=2, n_columns=4, gap_fraction=0.250)
    >>> msa.sequences
    ['ACD-', 'A-DE']
    """

    ids: tuple
    descriptions: tuple
    array: np.ndarray
    species: tuple | None = None
    annotations: Mapping = field(default_factory=lambda: _EMPTY)

    def __post_init__(self):
        arr = self.array
        if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8 or arr.ndim != 2:
            raise TypeError("MSA.array must be a 2-D uint8 numpy array")
        if len(self.ids) != arr.shape[0] or len(self.descriptions) != arr.shape[0]:
            raise ValueError(f"{len(self.ids)} ids, {len(self.descriptions)} descriptions for {arr.shape[0]} rows")
        if self.species is not None and len(self.species) != arr.shape[0]:
            raise ValueError(f"{len(self.species)} species keys for {arr.shape[0]} rows")
        arr.setflags(write=False)
        object.__setattr__(self, "ids", tuple(self.ids))
        object.__setattr__(self, "descriptions", tuple(self.descriptions))
        if self.species is not None:
            object.__setattr__(self, "species", tuple(self.species))

    # -- construction ------------------------------------------------------
    @classmethod
    def from_sequences(cls, sequences: Sequence[str], *, ids=None, descriptions=None, species=None, annotations=None, source=None):
        """Build an MSA from equal-length aligned strings.

        ``ids`` default to ``"0", "1", ...``; ``descriptions`` default to the
        ids; an id containing whitespace is split (its first token is the id,
        the whole string the description).

        Raises
        ------
        FormatError
            If the rows do not all have the same length (ragged alignment) or
            hold non-ASCII characters.
        """
        seqs = list(sequences)
        if ids is None:
            ids = [str(i) for i in range(len(seqs))]
        ids = list(ids)
        if descriptions is None:
            descriptions = ids
            ids = [(d.split(None, 1) or [""])[0] for d in ids]
        n = len(seqs)
        width = len(seqs[0]) if seqs else 0
        for i, s in enumerate(seqs):
            if len(s) != width:
                raise FormatError(
                    f"ragged alignment: row {ids[i]!r} has {len(s)} columns, the first row has {width}",
                    path=source,
                    record=i,
                )
        try:
            buf = "".join(seqs).encode("ascii")
        except UnicodeEncodeError as exc:
            raise FormatError(f"non-ASCII character in the alignment ({exc.reason})", path=source) from None
        arr = np.frombuffer(buf, dtype=np.uint8).reshape(n, width).copy() if n else np.zeros((0, 0), np.uint8)
        return cls(tuple(ids), tuple(descriptions), arr, species, types.MappingProxyType(dict(annotations or {})))

    @classmethod
    def from_records(cls, records, *, species_key=None, annotations=None, source=None):
        """Build an MSA from :class:`~protlm.io.fasta.FastaRecord` objects (aligned rows)."""
        records = list(records)
        msa = cls.from_sequences(
            [r.sequence for r in records],
            ids=[r.id for r in records],
            descriptions=[r.description for r in records],
            annotations=annotations,
            source=source,
        )
        return msa.with_species(species_key) if species_key is not None else msa

    # -- basic properties --------------------------------------------------
    @property
    def n_sequences(self) -> int:
        """Number of rows."""
        return int(self.array.shape[0])

    @property
    def n_columns(self) -> int:
        """Number of match columns (insert columns not counted)."""
        return int(self.array.shape[1])

    @property
    def sequences(self) -> list:
        """Rows as strings."""
        return [row.tobytes().decode("ascii") for row in self.array]

    def __len__(self) -> int:
        return self.n_sequences

    def __repr__(self) -> str:
        extra = ""
        if self.species is not None:
            extra = f", n_species={len({s for s in self.species if s is not None})}"
        return f"MSA(n_sequences={self.n_sequences}, n_columns={self.n_columns}, gap_fraction={self.gap_fraction():.3f}{extra})"

    def __getitem__(self, index) -> "MSA":
        """Select rows (int, slice, index array or boolean mask) and return an MSA."""
        if isinstance(index, (int, np.integer)):
            idx = np.array([int(index)])
            if not -self.n_sequences <= int(index) < self.n_sequences:
                raise IndexError(f"row {int(index)} out of range for {self.n_sequences} rows")
            idx %= max(self.n_sequences, 1)
        elif isinstance(index, slice):
            idx = np.arange(self.n_sequences)[index]
        else:
            idx = np.asarray(index)
            if idx.dtype == bool:
                idx = np.flatnonzero(idx)
        return self._take(idx)

    def _take(self, idx) -> "MSA":
        idx = [int(i) for i in idx]
        return replace(
            self,
            ids=tuple(self.ids[i] for i in idx),
            descriptions=tuple(self.descriptions[i] for i in idx),
            array=self.array[idx].copy() if idx else np.zeros((0, self.n_columns), np.uint8),
            species=None if self.species is None else tuple(self.species[i] for i in idx),
        )

    # -- species -----------------------------------------------------------
    def with_species(self, key) -> "MSA":
        """Return a copy with a per-row species key (see :func:`protlm.io.species.species_key`).

        Examples
        --------
        >>> msa = MSA.from_sequences(["AC", "AD"], ids=["a OX=9606", "b"])
        >>> msa.with_species("ox").species
        ('9606', None)
        """
        from protlm.io.species import apply_species_key

        return replace(self, species=apply_species_key(key, self.ids, self.descriptions))

    @property
    def n_no_species(self) -> int:
        """Rows with no species key (0 if no key was applied)."""
        return 0 if self.species is None else sum(s is None for s in self.species)

    # -- statistics and filters --------------------------------------------
    def gap_fraction(self) -> float:
        """Fraction of cells that are gaps (``-`` or ``.``)."""
        if self.array.size == 0:
            return 0.0
        return float(_is_gap(self.array).mean())

    def row_gap_fractions(self) -> np.ndarray:
        """Per-row fraction of gap cells."""
        if self.n_columns == 0:
            return np.zeros(self.n_sequences)
        return _is_gap(self.array).mean(axis=1)

    def filter_gaps(self, *, max_gap_fraction: float) -> "MSA":
        """Keep rows whose gap fraction is at most ``max_gap_fraction``.

        Examples
        --------
        >>> MSA.from_sequences(["ACDE", "A---"]).filter_gaps(max_gap_fraction=0.5).sequences
        ['ACDE']
        """
        if not 0.0 <= max_gap_fraction <= 1.0:
            raise ValueError(f"max_gap_fraction must be in [0, 1], not {max_gap_fraction}")
        return self._take(np.flatnonzero(self.row_gap_fractions() <= max_gap_fraction + 1e-12))

    def identity_to(self, row: int = 0) -> np.ndarray:
        """Identity of every row to ``row``: identical residues / columns where both have a residue."""
        a = self.array
        ref = a[row]
        both = ~_is_gap(a) & ~_is_gap(ref)[None, :]
        same = (a == ref[None, :]) & both
        n = both.sum(axis=1)
        return np.divide(same.sum(axis=1), n, out=np.zeros(len(a)), where=n > 0)

    def filter_identity(self, *, max_identity: float, keep_first: bool = True) -> "MSA":
        """Greedy redundancy filter: drop a row if it is more than ``max_identity`` identical to a kept row.

        Rows are visited in order (the first row, usually the query, is always
        kept when ``keep_first``).  Identity is computed over columns where
        both rows have a residue.

        Examples
        --------
        >>> MSA.from_sequences(["ACDEF", "ACDEF", "ACDKK"]).filter_identity(max_identity=0.9).sequences
        ['ACDEF', 'ACDKK']
        """
        if not 0.0 <= max_identity <= 1.0:
            raise ValueError(f"max_identity must be in [0, 1], not {max_identity}")
        a = self.array
        nongap = ~_is_gap(a)
        kept: list[int] = []
        for i in range(self.n_sequences):
            if kept and not (keep_first and i == 0):
                k = np.array(kept)
                both = nongap[k] & nongap[i]
                same = ((a[k] == a[i]) & both).sum(axis=1)
                n = both.sum(axis=1)
                ident = np.divide(same, n, out=np.zeros(len(k)), where=n > 0)
                if (ident > max_identity).any():
                    continue
            kept.append(i)
        return self._take(kept)

    def subsample(self, n: int, *, seed: int = 0, keep_first: bool = True) -> "MSA":
        """Random subset of ``n`` rows (order preserved; the first row kept when ``keep_first``).

        Examples
        --------
        >>> len(MSA.from_sequences(["A", "C", "D", "E"]).subsample(2, seed=1))
        2
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, not {n}")
        if n >= self.n_sequences:
            return self
        rng = np.random.default_rng(seed)
        if keep_first and n > 0:
            rest = rng.choice(np.arange(1, self.n_sequences), size=n - 1, replace=False)
            idx = np.sort(np.concatenate([[0], rest]))
        else:
            idx = np.sort(rng.choice(self.n_sequences, size=n, replace=False))
        return self._take(idx)

    def _rf(self):
        gc = self.annotations.get("GC") if self.annotations else None
        rf = gc.get("RF") if isinstance(gc, Mapping) else None
        return rf if isinstance(rf, str) and len(rf) == self.n_columns else None

    @property
    def insertion_columns(self) -> np.ndarray:
        """Boolean mask of insert columns.

        With a Stockholm ``#=GC RF`` line of the right width, the columns whose
        RF character is ``.`` or ``-`` (HMMER insert states); otherwise the
        columns holding only lowercase letters, ``.`` and ``*``.
        """
        rf = self._rf()
        if rf is not None:
            codes = np.frombuffer(rf.encode("ascii", "replace"), np.uint8)
            return (codes == 46) | (codes == 45)
        a = self.array
        ins_cell = _is_lower(a) | (a == 46) | (a == 42)
        return ins_cell.all(axis=0) if a.shape[0] else np.zeros(a.shape[1], bool)

    @property
    def has_insertions(self) -> bool:
        """Whether the rows still hold insert columns (A2M style, lowercase and ``.``)."""
        return bool(self.insertion_columns.any())

    def drop_insertions(self) -> "MSA":
        """Remove insert columns, turn ``.`` into ``-`` and uppercase the rest.

        Examples
        --------
        >>> MSA.from_sequences(["AcD", "A.-"]).drop_insertions().sequences
        ['AD', 'A-']
        """
        keep = ~self.insertion_columns
        a = self.array[:, keep]
        a = np.where(a == 46, np.uint8(45), a)
        a = np.where(_is_lower(a), a - np.uint8(32), a).astype(np.uint8)
        annotations = self.annotations
        rf = self._rf()
        if rf is not None:
            gc = dict(annotations["GC"])
            gc["RF"] = "".join(c for c, k in zip(rf, keep) if k)
            annotations = types.MappingProxyType({**annotations, "GC": gc})
        return replace(self, array=a, annotations=annotations)

    def slice_columns(self, start: int, stop: int | None = None) -> "MSA":
        """Columns ``start:stop`` (0-based, Python slice semantics)."""
        return replace(self, array=self.array[:, start:stop].copy())

    # -- output ------------------------------------------------------------
    def tokenize(self, alphabet) -> np.ndarray:
        """Token indices for a fair-esm style alphabet, shape ``(n_sequences, n_columns)``.

        Parameters
        ----------
        alphabet : object
            Has ``tok_to_idx`` (dict) or ``get_idx(letter)``, e.g.
            ``esm.data.Alphabet``.  Only single-character tokens are used; no
            BOS/EOS tokens are added.

        Raises
        ------
        AlphabetError
            Naming the first row and 1-based column whose letter the alphabet
            lacks.

        Examples
        --------
        >>> class Alpha:
        ...     tok_to_idx = {"-": 1, "A": 2, "C": 3}
        >>> MSA.from_sequences(["AC", "-A"]).tokenize(Alpha()).tolist()
        [[2, 3], [1, 2]]
        >>> MSA.from_sequences(["AZ"], ids=["q"]).tokenize(Alpha())
        Traceback (most recent call last):
        ...
        protlm.errors.AlphabetError: <alphabet>: record 1: row 'q', column 2: letter 'Z' is not in the model's alphabet
        """
        tok = getattr(alphabet, "tok_to_idx", None)
        if tok is None:
            toks = getattr(alphabet, "all_toks", None)
            if toks is None:
                raise TypeError("alphabet needs tok_to_idx or all_toks (a fair-esm Alphabet)")
            tok = {t: alphabet.get_idx(t) for t in toks}
        lut = np.full(256, -1, dtype=np.int64)
        for t, i in tok.items():
            if len(t) == 1 and ord(t) < 256:
                lut[ord(t)] = int(i)
        out = lut[self.array]
        bad = np.argwhere(out < 0)
        if len(bad):
            r, c = (int(x) for x in bad[0])
            raise AlphabetError(
                f"row {self.ids[r]!r}, column {c + 1}: letter {chr(self.array[r, c])!r} is not in the model's alphabet",
                record=r,
            )
        return out

    def to_records(self) -> list:
        """Rows as :class:`~protlm.io.fasta.FastaRecord`."""
        from protlm.io.fasta import FastaRecord

        return [FastaRecord(i, d, s) for i, d, s in zip(self.ids, self.descriptions, self.sequences)]

    def to_dataframe(self):
        """One row per sequence: ``id``, ``description``, ``species``, ``gap_fraction``, ``sequence``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "id": list(self.ids),
                "description": list(self.descriptions),
                "species": list(self.species) if self.species is not None else [None] * self.n_sequences,
                "gap_fraction": self.row_gap_fractions(),
                "sequence": self.sequences,
            }
        )

    def write(self, dest, *, format: str = "fasta", header: str | None = None) -> int:
        """Write as aligned FASTA (``"fasta"``) or A3M (``"a3m"``); a path is written atomically.

        Parameters
        ----------
        dest : str, os.PathLike or text handle
        format : {"fasta", "a3m"}
            A3M rows are written without their ``.`` padding, so an MSA read
            with ``keep_insertions=True`` round-trips exactly.
        header : str, optional
            A3M only: the first line, e.g. ColabFold's ``"#len1,len2\\tcard1,card2"``
            (``#`` added if missing); default ``annotations["header"]``.

        Returns
        -------
        int
            Rows written.
        """
        from protlm.io._write import write_rows

        if format == "fasta":
            from protlm.io.fasta import write_fasta

            return write_fasta(self.to_records(), dest)
        if format == "a3m":
            rows = ((d, s.replace(".", "")) for d, s in zip(self.descriptions, self.sequences))
            return write_rows(rows, dest, header=header if header is not None else self.annotations.get("header"))
        raise ValueError(f"format must be 'fasta' or 'a3m', not {format!r}")


_DELETE_INSERTIONS = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz.*")  # an A3M row's match columns are what is left
