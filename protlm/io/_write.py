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
