"""Run reports: what every output folder's ``report.json`` records.

The command line, resolved options, seed, device, package versions and wall
time, so that a result can be traced and reproduced.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import sys
from importlib import metadata

from protlm.io.atomic import atomic_write

__all__ = ["package_versions", "base_report", "write_json"]

_PACKAGES = ("protlm", "torch", "fair-esm", "numpy", "scipy", "pandas", "biopython", "click")


def package_versions(extra=()) -> dict:
    """Installed versions of protlm and its main dependencies (no imports).

    Examples
    --------
    >>> "protlm" in package_versions()
    True
    """
    out = {"python": platform.python_version()}
    for name in (*_PACKAGES, *extra):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def base_report(*, command: str, options: dict, seed=None, device=None) -> dict:
    """The fields every ``report.json`` starts with."""
    return {
        "command": command,
        "argv": list(sys.argv),
        "options": options,
        "seed": seed,
        "device": device,
        "versions": package_versions(),
        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def write_json(path, obj) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_write(path) as fh:
        json.dump(obj, fh, indent=2, default=_default)
        fh.write("\n")


def _default(o):
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    if hasattr(o, "__fspath__"):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
