"""Open a path, a handle or ``-`` as text; gzip and bz2 are detected from magic bytes.

Compression is sniffed from the first bytes, never from the file name, so
``x.fasta`` that is really gzip-compressed reads correctly and ``x.gz`` that
is plain text does too.  Decoding errors, truncated compressed streams and
binary junk become :class:`~protlm.errors.FormatError` naming the file.

Gzip is decompressed with `isal <https://github.com/pycompression/python-isal>`_
(Intel's ISA-L, about half the CPU time of zlib) when it is importable, and
with the standard library's :mod:`zlib` otherwise; both give the same bytes.
Which one is used is logged at debug level.
"""

from __future__ import annotations

import bz2
import contextlib
import functools
import gzip
import io
import logging
import os
import sys
import zlib

from protlm.errors import FormatError

__all__ = ["open_text", "display_name", "read_errors"]

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"
_BZ2_MAGIC = b"BZh"


def display_name(source) -> str:
    """Name of ``source`` for messages: the path, ``<stdin>`` or ``<handle>``.

    Parameters
    ----------
    source : str, os.PathLike, handle or "-"
        What a reader was given.

    Examples
    --------
    >>> display_name("data/x.a3m")
    'data/x.a3m'
    >>> display_name("-")
    '<stdin>'
    >>> import io
    >>> display_name(io.StringIO(">a\\nAC\\n"))
    '<handle>'
    """
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        return "<stdin>" if name == "-" else name
    name = getattr(source, "name", None)
    if isinstance(name, str) and name and (not name.startswith("<") or name == "<stdin>"):
        return name
    if source is sys.stdin or source is getattr(sys.stdin, "buffer", None):
        return "<stdin>"
    return "<handle>"


@functools.lru_cache(maxsize=1)
def _inflate_backend():
    """``(name, decompressobj, error class)`` of the gzip decompressor: isal's if importable, else zlib's.

    Imported on the first gzip file, not when protlm is imported.  Both
    decompress to identical bytes, so the choice changes speed only.
    """
    try:
        from isal import isal_zlib
    except ImportError:
        return "zlib (standard library; isal not importable)", zlib.decompressobj, zlib.error
    return "isal (ISA-L)", isal_zlib.decompressobj, isal_zlib.error


class _GzipRaw(io.RawIOBase):
    """Gzip decompression straight through a zlib-style ``decompressobj`` in 1 MiB blocks.

    The decompressor is isal's when importable, else :mod:`zlib`'s (see
    :func:`_inflate_backend`); either way this takes less CPU than
    :class:`gzip.GzipFile`.  Multi-member files (``cat a.gz b.gz``, bgzip)
    are read through; a truncated stream raises :class:`EOFError`, a corrupt
    one :class:`zlib.error` (whichever decompressor found it).
    """

    def __init__(self, fileobj):
        super().__init__()
        _, self._new, self._error = _inflate_backend()
        self._f = fileobj
        self._d = self._new(31)
        self._buf = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not len(self._buf):
            if self._done:
                return 0
            data = self._f.read(1 << 20)
            if not data:
                if not self._d.eof:
                    raise EOFError("Compressed file ended before the end-of-stream marker was reached")
                self._done = True
                return 0
            try:
                out = self._d.decompress(data)
                while self._d.eof and self._d.unused_data:
                    rest = self._d.unused_data
                    self._d = self._new(31)
                    out += self._d.decompress(rest)
            except self._error as exc:
                raise zlib.error(str(exc)) from None
            self._buf = memoryview(out)
        k = min(len(b), len(self._buf))
        b[:k] = self._buf[:k]
        self._buf = self._buf[k:]
        return k


def _wrap_binary(raw, name: str):
    """Wrap a binary stream, decompressing if its first bytes say so."""
    peek = _peek(raw, 3)
    if peek[:2] == _GZIP_MAGIC:
        raw = io.BufferedReader(_GzipRaw(raw), buffer_size=1 << 20)
        logger.debug("%s: gzip, decompressed with %s", name, _inflate_backend()[0])
    elif peek[:3] == _BZ2_MAGIC:
        raw = bz2.BZ2File(raw, mode="rb")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")


def _peek(raw, n: int) -> bytes:
    if hasattr(raw, "peek"):
        return raw.peek(n)[:n]
    if raw.seekable():
        pos = raw.tell()
        data = raw.read(n)
        raw.seek(pos)
        return data
    raise TypeError("binary handle must be seekable or support peek()")


@contextlib.contextmanager
def read_errors(name: str):
    """Turn low-level read failures (bad gzip, bad bytes) into :class:`FormatError`."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"not a text file (byte 0x{exc.object[exc.start]:02x} cannot be decoded as UTF-8)", path=name
        ) from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise FormatError(f"corrupt or truncated compressed file ({exc})", path=name) from None
    except OSError as exc:
        if "Invalid data stream" in str(exc) or "compressed" in str(exc).lower():
            raise FormatError(f"corrupt or truncated compressed file ({exc})", path=name) from None
        raise


@contextlib.contextmanager
def open_text(source, *, path_hint=None):
    """Open ``source`` for reading text.

    Parameters
    ----------
    source : str, os.PathLike, text handle, binary handle or ``"-"``
        A path (plain, gzip or bz2), an open handle, or ``"-"`` for stdin.
        Handles are not closed on exit.
    path_hint : str, optional
        Name to use in messages instead of :func:`display_name`.

    Yields
    ------
    io.TextIOBase
        A text handle.  Lines keep their endings (``newline=""``), so readers
        can report Windows line endings.

    Raises
    ------
    FileNotFoundError
        If the path does not exist.
    FormatError
        If the file is compressed but corrupt, or is not UTF-8 text.

    Examples
    --------
    >>> import gzip, io
    >>> blob = gzip.compress(b">a\\nACDE\\n")
    >>> with open_text(io.BytesIO(blob)) as fh:
    ...     fh.read()
    '>a\\nACDE\\n'
    """
    name = path_hint or display_name(source)
    with read_errors(name):
        if isinstance(source, (str, os.PathLike)):
            if os.fspath(source) == "-":
                fh = _wrap_binary(sys.stdin.buffer, name)
                try:
                    yield fh
                finally:
                    fh.detach()
                return
            raw = open(source, "rb")  # noqa: SIM115 - closed below
            try:
                fh = _wrap_binary(io.BufferedReader(raw) if not hasattr(raw, "peek") else raw, name)
                with fh:
                    yield fh
            finally:
                raw.close()
            return
        if isinstance(source, io.TextIOBase):
            yield source
            return
        if hasattr(source, "read"):
            probe = source.read(0)
            if isinstance(probe, str):
                yield source
                return
            fh = _wrap_binary(source, name)
            try:
                yield fh
            finally:
                fh.detach()
            return
        raise TypeError(f"cannot read from {type(source).__name__}: pass a path, a handle or '-'")
