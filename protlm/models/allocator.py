"""Process-level memory setting for long torch jobs on CPU (glibc only).

glibc serves large blocks with ``mmap`` until one is freed, then raises its
threshold so that later blocks of that size come from the heap, where freed
memory stays resident.  A DiffPALM step allocates and frees gigabytes of
activation and gradient buffers, so the process's resident memory ends up far
above what is live (``benchmarks/diffpalm_step.py`` measures it).  Fixing the
threshold returns freed blocks to the operating system at once.

Only commands call this (it changes the whole process); the library never does.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

__all__ = ["return_freed_memory"]

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3


def return_freed_memory(threshold_bytes: int = 1 << 20) -> bool:
    """Serve blocks of at least ``threshold_bytes`` by ``mmap`` so that freeing returns them to the OS.

    Parameters
    ----------
    threshold_bytes : int
        Blocks at least this large are served by ``mmap`` and returned to the OS when freed.

    Returns ``True`` when the setting was applied (Linux with glibc), ``False``
    elsewhere (nothing changes).

    Examples
    --------
    >>> return_freed_memory() in (True, False)
    True
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        ok = bool(libc.mallopt(_M_MMAP_THRESHOLD, int(threshold_bytes)))
    except (OSError, AttributeError):
        return False
    if ok:
        log.debug("glibc mmap threshold fixed at %d bytes", threshold_bytes)
    return ok
