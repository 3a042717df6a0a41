"""FASTA: plain or aligned, wrapped lines, blank lines between records.

The reader is a fast path: it reads large chunks, splits them at ``"\\n>"``
and joins sequence lines with ``str`` methods, so it runs at C speed and in
constant memory whatever the file size.  It accepts what real files contain
(empty or duplicate identifiers, lowercase, ``*`` stops, ``.`` and ``-``
gaps, Windows line endings) and rejects what cannot be a protein record with
a :class:`~protlm.errors.FastaFormatError` naming file, record and line.
"""

from __future__ import annotations

import re
import string
from itertools import repeat
from operator import itemgetter
from typing import Iterable, Iterator, NamedTuple

from protlm.errors import FastaFormatError, FormatError
from protlm.io._open import display_name, open_text

__all__ = ["FastaRecord", "iter_fasta", "read_fasta", "write_fasta", "format_fasta"]

CHUNK_CHARS = 1 << 16  # 64 Ki characters per read: batches stay in the CPU cache

# Letters, gaps ('-', '.') and stop ('*') are sequence characters; anything else is not.
_BAD_SEQ_CHAR = re.compile(r"[^A-Za-z.*\-]")
_SEQ_BYTES = (string.ascii_letters + ".*-").encode("ascii")
# one record of a batch: header line, then the body up to the next '>' (which it consumes)
_RECORD = re.compile(r"([^\n]*)\n([^>]*)>?")


class FastaRecord(NamedTuple):
    """One FASTA record (immutable; compares and unpacks like a tuple).

    Attributes
    ----------
    id : str
        First whitespace-separated token of the header (may be empty).
    description : str
        The whole header line after ``>`` (without the line ending).
    sequence : str
        Sequence lines joined, whitespace removed, case kept.
    """

    id: str
    description: str
    sequence: str

    def __repr__(self) -> str:
        seq = self.sequence if len(self.sequence) <= 20 else self.sequence[:17] + "..."
        return f"FastaRecord(id={self.id!r}, len={len(self.sequence)}, sequence={seq!r})"


def _records(ids, descs, seqs):
    """FastaRecords built at C level (``tuple.__new__`` over zipped columns)."""
    return map(tuple.__new__, repeat(FastaRecord), zip(ids, descs, seqs))


def _bad_char_message(seq: str, pos: int) -> str:
    ch = seq[pos]
    shown = repr(ch) if ch.isprintable() else f"0x{ord(ch):02x}"
    return f"character {shown} at sequence position {pos + 1} is not a sequence letter, gap or '*'"


def _iter_batches(fh, name: str, cls, preamble=None) -> Iterator[tuple[str, int]]:
    """Yield ``(text, skipped)`` per chunk: whole records, the first ``>`` removed, separated by ``"\\n>"``.

    ``skipped`` is the number of lines before the first header (0 after the
    first batch); the caller counts the lines of each batch.  A record longer
    than a chunk is collected piece by piece (linear time, however long).
    """
    buf = ""
    skipped = 0
    while True:
        chunk = fh.read(CHUNK_CHARS)
        eof = not chunk
        buf += chunk
        # Skip the preamble up to the first header.
        while buf:
            if buf[0] == ">":
                break
            nl = buf.find("\n")
            if nl < 0 and not eof:
                break  # need more text to see the whole line
            text = buf if nl < 0 else buf[:nl]
            stripped = text.strip()
            if stripped and stripped[0] in "#;" and preamble is not None:
                preamble.append(text.rstrip("\r"))
            if stripped and stripped[0] not in "#;":
                if "\x00" in text or not text.replace("\t", " ").rstrip("\r").isprintable():
                    raise cls("not a FASTA file (binary data)", path=name, line=skipped + 1)
                raise cls("sequence line before any '>' header", path=name, record=0, line=skipped + 1)
            buf = "" if nl < 0 else buf[nl + 1 :]
            skipped += 1
        if buf[:1] == ">" or eof:
            break
    if not buf:
        return
    pending = [buf]  # pieces of text whose last record may be unfinished; starts with '>'
    if eof:
        yield buf[1:], skipped
        return
    while True:
        chunk = fh.read(CHUNK_CHARS)
        if not chunk:
            yield "".join(pending)[1:], skipped
            return
        if chunk[0] == ">" and pending[-1][-1:] == "\n":
            # a record boundary falls exactly between two chunks
            yield "".join(pending)[1:-1], skipped
            skipped = 0
            pending = [chunk]
            cut = chunk.rfind("\n>")
            if cut < 0:
                continue
            yield chunk[1:cut], 0
            pending = [chunk[cut + 1 :]]
            continue
        cut = chunk.rfind("\n>")
        if cut < 0:
            pending.append(chunk)
            continue
        pending.append(chunk[:cut])
        yield "".join(pending)[1:], skipped
        skipped = 0
        pending = [chunk[cut + 1 :]]


def _fast_batch(text: str):
    """``(descriptions, sequences, n_newlines)`` of a batch from C-level string operations, or ``None``.

    ``None`` sends the batch to the careful per-record path (Windows line
    endings, whitespace or invalid characters inside sequences, empty
    records, ...), which also produces the error messages.
    """
    if "\r" in text:
        return None
    split = _one_line_records(text)
    if split is not None:
        descs, seqs, n_newlines = split
    else:
        pairs = _RECORD.findall(text)
        if not pairs:
            return None
        descs, bodies = zip(*pairs)
        # Every '>' must start a line and the matches must cover the whole text;
        # otherwise a '>' sits inside a sequence line or a header lacks its newline.
        if not all(map(str.endswith, bodies[:-1], repeat("\n"))):
            return None
        body_chars = sum(map(len, bodies))
        if sum(map(len, descs)) + body_chars + 2 * len(pairs) - 1 != len(text):
            return None
        seqs = list(map(str.replace, bodies, repeat("\n"), repeat("")))
        n_newlines = len(pairs) + body_chars - sum(map(len, seqs))
    if not all(seqs):
        return None
    try:
        joined = "".join(seqs).encode("ascii")
    except UnicodeEncodeError:
        return None
    if joined.translate(None, _SEQ_BYTES):
        return None
    return descs, seqs, n_newlines


def _one_line_records(text: str):
    """``(descriptions, sequences, n_newlines)`` when every record is one header line and one sequence line."""
    lines = text.split("\n")
    n_newlines = len(lines) - 1
    if len(lines) % 2:
        if lines[-1]:
            return None
        lines.pop()  # the text ended with a newline (last batch)
    if not lines:
        return None
    heads = lines[2::2]
    seqs = lines[1::2]
    if not all(map(str.startswith, heads, repeat(">"))) or any(map(str.startswith, seqs, repeat(">"))):
        return None
    descs = [lines[0]]
    descs += map(itemgetter(slice(1, None)), heads)
    return descs, seqs, n_newlines


def _ids(descs):
    try:
        return list(map(itemgetter(0), map(str.split, descs, repeat(None), repeat(1))))
    except IndexError:  # an empty header
        return [(d.split(None, 1) or [""])[0] for d in descs]


class BatchError(Exception):
    """Raised by a ``make_batch`` function: record ``k`` of the batch is bad."""

    def __init__(self, k: int, error: FormatError):
        super().__init__(error.message)
        self.k = k
        self.error = error


def _parse(source, *, make=None, make_batch=None, error=FastaFormatError, preamble=None, unchecked=None):
    """The FASTA fast path shared by every FASTA-like reader.

    Text is read in large chunks; each chunk of whole records is parsed with
    C-level string operations (:func:`_fast_batch`), or record by record when
    it holds something unusual.  ``make(header, sequence)`` builds the object
    to yield (``None``: skip the record); it may raise a :class:`FormatError`
    with a message only, to which file, record and line are added here.
    ``make_batch(descriptions, sequences)`` does the same for a whole batch
    and returns a list (raising :class:`BatchError` for a bad record).
    Without either, yields :class:`FastaRecord`.  ``unchecked(header)``, if
    given, marks records whose characters are not checked (A3M's ``ss_conf``
    digits): ``make`` receives them as written.
    """
    name = display_name(source)
    index = 0
    line0 = 1
    with open_text(source) as fh:
        for text, skipped in _iter_batches(fh, name, error, preamble):
            line0 += skipped
            fast = _fast_batch(text)
            if fast is None:
                descs, seqs = _careful_batch(text, name, error, index, line0, unchecked)
                n_newlines = text.count("\n")
            else:
                descs, seqs, n_newlines = fast
            if make_batch is not None:
                try:
                    batch = make_batch(descs, seqs)
                except BatchError as exc:
                    k = exc.k
                    raise type(exc.error)(exc.error.message, path=name, record=index + k, line=_line_of(text, k, line0)) from None
                yield from batch
            elif make is None:
                yield from _records(_ids(descs), descs, seqs)
            else:
                for k, (header, seq) in enumerate(zip(descs, seqs)):
                    try:
                        obj = make(header, seq)
                    except FormatError as exc:
                        raise type(exc)(exc.message, path=name, record=index + k, line=_line_of(text, k, line0)) from None
                    if obj is not None:
                        yield obj
            index += len(descs)
            line0 += n_newlines + 1


def _careful_batch(text, name, error, index, line0, unchecked=None):
    descs, seqs = [], []
    for k, rec in enumerate(text.split("\n>")):
        nl = rec.find("\n")
        if nl < 0:
            header, body = rec, ""
        else:
            header, body = rec[:nl], rec[nl + 1 :]
        if header[-1:] == "\r":
            header = header[:-1]
        seq = "".join(body.split())
        if not seq:
            raise error("header line with no sequence", path=name, record=index + k, line=_line_of(text, k, line0))
        m = None if unchecked is not None and unchecked(header) else _BAD_SEQ_CHAR.search(seq)
        if m is not None:
            raise error(
                _bad_char_message(seq, m.start()),
                path=name,
                record=index + k,
                line=_line_of(text, k, line0) + _line_offset(body, m.start()),
            )
        descs.append(header)
        seqs.append(seq)
    return descs, seqs


def _line_of(text: str, k: int, line0: int) -> int:
    """1-based line of the header of the ``k``-th record of a batch."""
    pos = 0
    for _ in range(k):
        pos = text.index("\n>", pos) + 1
    return line0 + text.count("\n", 0, pos)


def iter_fasta(source) -> Iterator[FastaRecord]:
    """Stream FASTA records from a path, handle or ``-``.

    Parameters
    ----------
    source : str, os.PathLike, handle or ``"-"``
        Plain, gzip or bz2 (detected from the first bytes).

    Yields
    ------
    FastaRecord

    Raises
    ------
    FastaFormatError
        Text before the first header, a header with no sequence, or a
        character that is not a letter, gap or ``*``.

    Examples
    --------
    >>> import io
    >>> text = ">sp|P1|A_HUMAN desc\\nMKV\\nLA\\n\\n>x\\r\\nAC-*\\r\\n"
    >>> [(r.id, r.sequence) for r in iter_fasta(io.StringIO(text))]
    [('sp|P1|A_HUMAN', 'MKVLA'), ('x', 'AC-*')]
    """
    return _parse(source)


def _line_offset(body: str, seq_pos: int) -> int:
    """1 + index of the body line holding non-whitespace character ``seq_pos``."""
    seen = 0
    for i, ln in enumerate(body.split("\n")):
        n = len("".join(ln.split()))
        if seen + n > seq_pos:
            return i + 1
        seen += n
    return 1


def read_fasta(source) -> list[FastaRecord]:
    """Read all records of a FASTA file (see :func:`iter_fasta`).

    Parameters
    ----------
    source : str, os.PathLike, handle or "-"
        Plain, gzip or bz2 (detected from the first bytes).

    Examples
    --------
    >>> import io
    >>> read_fasta(io.StringIO(">a\\nAC\\n>b\\nDE\\n"))[1]
    FastaRecord(id='b', len=2, sequence='DE')
    """
    return list(iter_fasta(source))


def format_fasta(record, *, width: int | None = None) -> str:
    """One record as FASTA text ending in a newline.

    Parameters
    ----------
    record : FastaRecord
        Anything with ``description`` and ``sequence`` attributes.
    width : int, optional
        Wrap sequence lines at this width; ``None`` writes one line.

    Examples
    --------
    >>> format_fasta(FastaRecord("a", "a x", "ACDEF"), width=2)
    '>a x\\nAC\\nDE\\nF\\n'
    """
    seq = record.sequence
    if width is None or width <= 0:
        return f">{record.description}\n{seq}\n"
    lines = [seq[i : i + width] for i in range(0, len(seq), width)]
    return f">{record.description}\n" + "\n".join(lines) + "\n"


def write_fasta(records: Iterable, dest, *, width: int | None = None) -> int:
    """Write records as FASTA.

    Parameters
    ----------
    records : iterable of FastaRecord
        Anything with ``description`` and ``sequence`` attributes.
    dest : str, os.PathLike or text handle
        A path is written atomically (temporary file, then rename).
    width : int, optional
        Wrap sequence lines at this width; ``None`` writes one line.

    Returns
    -------
    int
        Number of records written.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> write_fasta([FastaRecord("a", "a", "ACD")], out)
    1
    >>> out.getvalue()
    '>a\\nACD\\n'
    """
    from protlm.io._write import open_dest

    n = 0
    with open_dest(dest) as fh:
        for rec in records:
            fh.write(format_fasta(rec, width=width))
            n += 1
    return n
