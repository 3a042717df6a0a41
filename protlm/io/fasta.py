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
from dataclasses import dataclass
from typing import Iterable, Iterator

from protlm.errors import FastaFormatError
from protlm.io._open import display_name, open_text

__all__ = ["FastaRecord", "iter_fasta", "iter_fasta_lines", "read_fasta", "write_fasta", "format_fasta"]

CHUNK_CHARS = 1 << 22  # 4 Mi characters per read

# Letters, gaps ('-', '.') and stop ('*') are sequence characters; anything else is not.
_BAD_SEQ_CHAR = re.compile(r"[^A-Za-z.*\-]")


@dataclass(frozen=True, slots=True)
class FastaRecord:
    """One FASTA record.

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


def _bad_char_message(seq: str, pos: int) -> str:
    ch = seq[pos]
    shown = repr(ch) if ch.isprintable() else f"0x{ord(ch):02x}"
    return f"character {shown} at sequence position {pos + 1} is not a sequence letter, gap or '*'"


def _iter_raw(fh, name: str, cls, preamble=None) -> Iterator[tuple[str, str, int]]:
    """Yield ``(header, body, first_line)`` for each record; ``body`` still has its newlines.

    Lines before the first header must be blank; lines starting with ``#`` or
    ``;`` before the first header are comments and are skipped.
    """
    buf = ""
    line = 1  # 1-based line number of the start of ``buf``
    started = False
    while True:
        chunk = fh.read(CHUNK_CHARS)
        eof = not chunk
        buf += chunk
        if not started:
            # Skip the preamble up to the first header.
            while buf:
                if buf[0] == ">":
                    started = True
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
                        raise cls("not a FASTA file (binary data)", path=name, line=line)
                    raise cls("sequence line before any '>' header", path=name, record=0, line=line)
                buf = "" if nl < 0 else buf[nl + 1 :]
                line += 1
            if not started:
                if eof:
                    return
                continue
        if eof:
            parts = buf[1:].split("\n>") if buf else []
            buf = ""
        else:
            cut = buf.rfind("\n>")
            if cut < 0:
                continue
            parts = buf[1:cut].split("\n>")
            buf = buf[cut + 1 :]
        for rec in parts:
            nl = rec.find("\n")
            if nl < 0:
                header, body = rec, ""
            else:
                header, body = rec[:nl], rec[nl + 1 :]
            yield header, body, line
            line += rec.count("\n") + 1
        if eof:
            return


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
    for rec, _ in iter_fasta_lines(source):
        yield rec


def iter_fasta_lines(source, *, _error=FastaFormatError, preamble=None) -> Iterator[tuple[FastaRecord, int]]:
    """Like :func:`iter_fasta`, yielding ``(record, header_line)`` (1-based line of the header).

    ``preamble``, if a list, receives the ``#``/``;`` comment lines found before the first header.
    """
    name = display_name(source)
    bad = _BAD_SEQ_CHAR.search
    with open_text(source) as fh:
        for index, (header, body, line) in enumerate(_iter_raw(fh, name, _error, preamble)):
            if header.endswith("\r"):
                header = header[:-1]
            seq = "".join(body.split())
            if not seq:
                raise _error("header line with no sequence", path=name, record=index, line=line)
            m = bad(seq)
            if m is not None:
                raise _error(
                    _bad_char_message(seq, m.start()),
                    path=name,
                    record=index,
                    line=line + _line_offset(body, m.start()),
                )
            sp = header.split(None, 1)
            yield FastaRecord(sp[0] if sp else "", header, seq), line


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

    Examples
    --------
    >>> import io
    >>> read_fasta(io.StringIO(">a\\nAC\\n>b\\nDE\\n"))[1]
    FastaRecord(id='b', len=2, sequence='DE')
    """
    return list(iter_fasta(source))


def format_fasta(record, *, width: int | None = None) -> str:
    """One record as FASTA text ending in a newline.

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
