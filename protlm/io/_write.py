"""Destination helper: a path is written atomically, a handle is written in place."""

from __future__ import annotations

import contextlib
import os

from protlm.io.atomic import atomic_write


@contextlib.contextmanager
def open_dest(dest):
    """Yield a text handle for ``dest`` (path: atomic write; ``"-"``: stdout; handle: itself)."""
    if isinstance(dest, (str, os.PathLike)):
        if os.fspath(dest) == "-":
            import sys

            yield sys.stdout
            return
        with atomic_write(dest, "w") as fh:
            yield fh
        return
    yield dest


def write_rows(rows, dest, *, header: str | None = None) -> int:
    """Write ``(description, sequence)`` rows as one-line FASTA records, after an optional ``#`` header line.

    The layout of A3M files (ColabFold's ``#len1,len2<TAB>card1,card2`` first line).

    Parameters
    ----------
    rows : iterable of (str, str)
    dest : str, os.PathLike, ``"-"`` or text handle
        A path is written atomically.
    header : str, optional
        First line; ``#`` is added if missing.

    Returns
    -------
    int
        Rows written.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> write_rows([("q", "ACD")], out, header="3\\t1")
    1
    >>> out.getvalue()
    '#3\\t1\\n>q\\nACD\\n'
    """
    n = 0
    with open_dest(dest) as fh:
        if header:
            fh.write(header if header.startswith("#") else "#" + header)
            fh.write("\n")
        for desc, seq in rows:
            fh.write(f">{desc}\n{seq}\n")
            n += 1
    return n
