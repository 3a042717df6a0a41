"""What is in a sequence file: format, counts, width, species, and the oddities real files hold.

Used by ``protlm inspect``.  Oddities that are *not* errors (empty or
duplicate identifiers, lowercase-only rows, ``*`` stops, Windows line
endings) are counted and reported rather than rejected.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import asdict, dataclass

import numpy as np

from protlm.io._open import display_name, open_text
from protlm.io.general import detect_format, read_msa
from protlm.io.msa import MSA
from protlm.io.species import species_key as make_species_key

log = logging.getLogger(__name__)

__all__ = ["FileReport", "inspect_file"]


@dataclass(frozen=True)
class FileReport:
    """Summary of one file (see :func:`inspect_file`).

    ``n_columns`` and ``gap_fraction`` are ``None`` for unaligned FASTA;
    ``n_species`` is ``None`` when no row has a species key;
    ``min_length``/``max_length``/``n_residues`` count residues (gaps excluded).
    """

    path: str
    format: str
    n_sequences: int
    n_columns: int | None
    aligned: bool
    has_insertions: bool
    n_species: int | None
    species_key: str | None
    n_no_species: int
    gap_fraction: float | None
    n_residues: int
    min_length: int
    max_length: int
    n_alignments: int
    n_empty_ids: int
    n_duplicate_ids: int
    n_lowercase_only: int
    n_with_stop: int
    crlf: bool
    header: str | None = None

    def to_dict(self) -> dict:
        """The report as a JSON-ready dict (what ``protlm inspect --json`` prints)."""
        return asdict(self)

    def to_dataframe(self):
        """The report as a one-row :class:`pandas.DataFrame`."""
        import pandas as pd

        return pd.DataFrame([self.to_dict()])

    def write(self, path) -> None:
        """Write as JSON (atomically)."""
        from protlm.report import write_json

        write_json(path, self.to_dict())

    def notes(self) -> list:
        """Human-readable list of the oddities found."""
        out = []
        if self.n_empty_ids:
            out.append(f"{self.n_empty_ids} empty identifier(s)")
        if self.n_duplicate_ids:
            out.append(f"{self.n_duplicate_ids} duplicate identifier(s)")
        if self.n_lowercase_only:
            out.append(f"{self.n_lowercase_only} lowercase-only row(s)")
        if self.n_with_stop:
            out.append(f"{self.n_with_stop} sequence(s) with '*'")
        if self.crlf:
            out.append("Windows (CRLF) line endings")
        if self.n_alignments > 1:
            out.append(f"{self.n_alignments} alignments in the file (figures are for the first)")
        return out


def _has_crlf(source) -> bool:
    with open_text(source) as fh:
        while True:
            chunk = fh.read(1 << 22)
            if not chunk:
                return False
            if "\r" in chunk:
                return True


def _id_stats(ids) -> tuple:
    seen, dup, empty = set(), 0, 0
    for i in ids:
        if not i:
            empty += 1
        elif i in seen:
            dup += 1
        else:
            seen.add(i)
    return empty, dup


def _keys(spec, ids, descriptions) -> tuple:
    """Apply the key; with ``auto`` and no key found, try UniProt ``OS=`` names (reported as ``os``)."""
    fn = make_species_key(spec)
    keys = [fn(i, d) for i, d in zip(ids, descriptions)]
    used = spec if isinstance(spec, str) else getattr(spec, "__name__", "callable")
    if spec == "auto" and not any(k is not None for k in keys):
        alt = make_species_key("os")
        alt_keys = [alt(i, d) for i, d in zip(ids, descriptions)]
        if any(k is not None for k in alt_keys):
            keys, used = alt_keys, "os"
    found = {k for k in keys if k is not None}
    return (len(found) if found else None), (used if found else None), sum(k is None for k in keys)


def inspect_file(source, *, species_key="auto", format: str = "auto") -> FileReport:
    """Inspect one file.

    Parameters
    ----------
    source : str, os.PathLike or seekable handle
    species_key : str or callable
        See :func:`protlm.io.species.species_key`.  With ``"auto"``, files
        whose headers carry no TaxID/OX/HK-RR/MalG-MalK key but UniProt
        ``OS=`` names are keyed by organism name (``species_key`` says
        ``"os"`` then).
    format : {"auto", "fasta", "a3m", "stockholm", "clustal"}

    Raises
    ------
    FormatError
        If the file cannot be read (naming file, record and line).

    Examples
    --------
    >>> import io
    >>> r = inspect_file(io.StringIO(">q OX=9606\\nACD-\\n>h OX=10090\\nAcCD-*\\n>h\\nac----\\n"))
    >>> r.format, r.n_sequences, r.n_columns, r.n_species, r.n_duplicate_ids, r.n_lowercase_only, r.n_with_stop
    ('a3m', 3, 4, 2, 1, 1, 1)
    """
    name = display_name(source)
    if not isinstance(source, (str, os.PathLike)) and not (hasattr(source, "seekable") and source.seekable()):
        data = source.read()
        source = io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data)
    fmt = detect_format(source) if format == "auto" else format
    crlf = _has_crlf(source)
    _rewind(source)
    if fmt == "fasta":
        return _inspect_fasta(source, name, crlf, species_key)
    n_alignments = 1
    if fmt == "stockholm":
        from protlm.io.stockholm import iter_stockholm

        n_alignments = 0
        msa = None
        for m in iter_stockholm(source, keep_insertions=True):
            msa = m if msa is None else msa
            n_alignments += 1
    else:
        msa = read_msa(source, format=fmt, keep_insertions=True)
    return _report_msa(msa, name, fmt, crlf, species_key, n_alignments)


def _rewind(source):
    if not isinstance(source, (str, os.PathLike)):
        source.seek(0)


def _row_flags(arr: np.ndarray) -> tuple:
    upper = ((arr >= 65) & (arr <= 90)).any(axis=1)
    lower = ((arr >= 97) & (arr <= 122)).any(axis=1)
    stop = (arr == 42).any(axis=1)
    return int((lower & ~upper).sum()), int(stop.sum())


def _report_msa(msa: MSA, name, fmt, crlf, spec, n_alignments) -> FileReport:
    n_species, used, n_no = _keys(spec, msa.ids, msa.descriptions)
    lower_only, stops = _row_flags(msa.array)
    empty, dup = _id_stats(msa.ids)
    matches = msa.drop_insertions()
    residues_per_row = (np.isin(msa.array, np.frombuffer(b"-.", np.uint8), invert=True)).sum(axis=1)
    return FileReport(
        path=name,
        format=fmt,
        n_sequences=msa.n_sequences,
        n_columns=matches.n_columns,
        aligned=True,
        has_insertions=msa.has_insertions,
        n_species=n_species,
        species_key=used,
        n_no_species=n_no,
        gap_fraction=round(matches.gap_fraction(), 6),
        n_residues=int(residues_per_row.sum()),
        min_length=int(residues_per_row.min()) if msa.n_sequences else 0,
        max_length=int(residues_per_row.max()) if msa.n_sequences else 0,
        n_alignments=n_alignments,
        n_empty_ids=empty,
        n_duplicate_ids=dup,
        n_lowercase_only=lower_only,
        n_with_stop=stops,
        crlf=crlf,
        header=msa.annotations.get("header"),
    )


#: Ids whose duplicates ``protlm inspect`` checks in a FASTA file (8 bytes each).
MAX_ID_CHECK = 20_000_000


def _inspect_fasta(source, name, crlf, spec) -> FileReport:
    """One streaming pass over a FASTA file in bounded memory.

    Database-sized files (UniRef, UniProt) are read record by record; only an
    aligned file (all records of one length, an MSA) is read again as an MSA
    for its columns and gap fraction.  Duplicate ids are found from 8-byte
    hashes of the first :data:`MAX_ID_CHECK` ids (at most 160 MB); past that the
    count covers those ids only, and the report says how many were checked.
    """
    import hashlib
    from array import array

    from protlm.errors import FastaFormatError
    from protlm.io.fasta import iter_fasta

    key_fn = make_species_key(spec)
    alt_fn = make_species_key("os") if spec == "auto" else None
    found, alt_found = set(), set()
    n = n_no = alt_no = lower_only = stops = residues = empty = 0
    min_len, max_len, first_length, aligned = None, 0, None, True
    id_hashes = array("q")
    for rec in iter_fasta(source):
        s = rec.sequence
        n += 1
        if first_length is None:
            first_length = len(s)
        elif len(s) != first_length:
            aligned = False
        count = len(s) - s.count("-") - s.count(".")
        residues += count
        min_len = count if min_len is None else min(min_len, count)
        max_len = max(max_len, count)
        if s.islower():
            lower_only += 1
        if "*" in s:
            stops += 1
        if not rec.id:
            empty += 1
        elif len(id_hashes) < MAX_ID_CHECK:
            id_hashes.append(int.from_bytes(hashlib.blake2b(rec.id.encode(), digest_size=8).digest(), "little",
                                            signed=True))
        key = key_fn(rec.id, rec.description)
        if key is None:
            n_no += 1
        else:
            found.add(key)
        if alt_fn is not None:
            alt = alt_fn(rec.id, rec.description)
            if alt is None:
                alt_no += 1
            else:
                alt_found.add(alt)
    if not n:
        raise FastaFormatError("no sequences", path=name)
    n_columns = gap_fraction = None
    has_ins = False
    if aligned:
        _rewind(source)
        msa = read_msa(source, format="fasta", keep_insertions=True)
        has_ins = msa.has_insertions
        matches = msa.drop_insertions()
        n_columns, gap_fraction = matches.n_columns, round(matches.gap_fraction(), 6)
    used = spec if isinstance(spec, str) else getattr(spec, "__name__", "callable")
    if not found and alt_found:  # auto found no key, but UniProt OS= names
        found, used, n_no = alt_found, "os", alt_no
    n_species, used = (len(found), used) if found else (None, None)
    hashes = np.frombuffer(id_hashes, dtype=np.int64) if len(id_hashes) else np.zeros(0, dtype=np.int64)
    hashes.sort()  # in place: no second copy of the hashes
    dup = int(np.count_nonzero(hashes[1:] == hashes[:-1]))
    if n - empty > len(hashes):
        log.warning("%s: duplicate ids checked among the first %d of %d ids only", name, len(hashes), n - empty)
    residue_counts = (min_len, max_len)
    return FileReport(
        path=name,
        format="fasta",
        n_sequences=n,
        n_columns=n_columns,
        aligned=aligned,
        has_insertions=has_ins,
        n_species=n_species,
        species_key=used,
        n_no_species=n_no,
        gap_fraction=gap_fraction,
        n_residues=residues,
        min_length=residue_counts[0],
        max_length=residue_counts[1],
        n_alignments=1,
        n_empty_ids=empty,
        n_duplicate_ids=dup,
        n_lowercase_only=lower_only,
        n_with_stop=stops,
        crlf=crlf,
    )
