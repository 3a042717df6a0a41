"""What every benchmark result records about how it was made, in one place.

``provenance()`` gives the command line, the git commit (and whether the tree
had uncommitted changes), wall and CPU seconds since the clock was started,
the machine and the package versions.  ``rel()`` turns a path into one relative
to the repository, so results never carry a machine's absolute paths.
``code_digest()`` hashes source files, for cache keys that change with the code
that computes the cached value.

Usage in a benchmark::

    clock = Clock()
    ...
    report = {**provenance(__file__, argv, clock), "results": ...}
"""

from __future__ import annotations

import hashlib
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    """Wall and CPU time (this process and its finished children) since creation."""

    def __init__(self) -> None:
        self.wall0 = time.perf_counter()
        self.cpu0 = _cpu_seconds()

    def wall(self) -> float:
        return time.perf_counter() - self.wall0

    def cpu(self) -> float:
        return _cpu_seconds() - self.cpu0


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def git_state() -> dict:
    """``{"git_commit": sha or None, "git_dirty": bool or None, "dirty_files": [...]}`` of the repository.

    Dirty means a tracked file other than a benchmark result differs from the
    commit (results written by earlier benchmarks of the same run do not count).
    """
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return {"git_commit": None, "git_dirty": None, "dirty_files": None}
    dirty = sorted(line[3:] for line in status if not line[3:].startswith("benchmarks/results/"))
    return {"git_commit": sha, "git_dirty": bool(dirty), "dirty_files": dirty}


def rel(path) -> str:
    """``path`` relative to the repository root (``../shared/...`` for the shared folder)."""
    return os.path.relpath(os.path.abspath(os.fspath(path)), ROOT)


def code_digest(*paths) -> str:
    """SHA-256 (16 hex digits) of the given source files or of every ``.py`` under given folders."""
    h = hashlib.sha256()
    for p in paths:
        p = Path(p)
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            h.update(rel(f).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def provenance(script, argv, clock: Clock, **extra) -> dict:
    """The fields every results file carries (see the module docstring)."""
    import numpy

    versions = {"python": platform.python_version(), "numpy": numpy.__version__}
    for name in ("torch", "scipy", "protlm"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = getattr(module, "__version__", None)
    args = list(sys.argv[1:] if argv is None else argv)
    return {
        "command": " ".join(["python", rel(script), *args]),
        **git_state(),
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wall_seconds": round(clock.wall(), 2),
        "cpu_seconds": round(clock.cpu(), 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "machine": {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
                    "platform": platform.platform(),
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "versions": versions,
        **extra,
    }


def write_record(path: Path, record: dict) -> None:
    """Write a results record as JSON: to a temporary file beside ``path``, then renamed over it."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(path)
