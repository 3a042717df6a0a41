"""Atomic output: write to a temporary file in the same folder, then rename.

An interrupted or failed write never leaves a half-written file behind and
never destroys what was there before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from protlm.errors import OutputError, OutputExistsError

__all__ = ["atomic_write", "prepare_outdir", "check_output_file", "remove_stale_outputs", "COMPLETE_MARKER"]

log = logging.getLogger(__name__)

#: The file a command writes last into its output folder: a folder without it holds an interrupted run.
COMPLETE_MARKER = "report.json"


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = None):
    """Open ``path`` for writing so that it appears only when complete.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.
    mode : {"w", "wb"}
        Text or binary.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with atomic_write(os.path.join(d, "a.txt")) as fh:
    ...     _ = fh.write("hello")
    >>> open(os.path.join(d, "a.txt")).read()
    'hello'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', not {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        if mode == "wb":
            fh = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        with fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def prepare_outdir(path, *, overwrite: bool = False, expected=()) -> Path:
    """Check an output folder before any work, refusing to clobber earlier results.

    Nothing is created here: the folder appears with the first file written
    into it (:func:`atomic_write` makes missing parents), so a command that
    stops on bad input or missing weights leaves no empty folder behind.

    Parameters
    ----------
    path : str or os.PathLike
        The folder.
    overwrite : bool
        Allow writing into a folder that already holds any of ``expected``.
    expected : iterable of str
        File names the command will write.

    Raises
    ------
    OutputExistsError
        If the folder holds one of ``expected`` and ``overwrite`` is false, from a
        finished run: when ``expected`` names :data:`COMPLETE_MARKER` (written last)
        and the folder lacks it, its files are what an interrupted run left, and
        the same command may replace them without ``overwrite``.
    OutputError
        If ``path`` is a file, or cannot be written (the nearest existing
        folder on its way is not writable).

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> out = prepare_outdir(os.path.join(d, "new", "run"))
    >>> out.exists()
    False
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: exists and is not a folder")
    if path.is_dir() and not overwrite:
        clash = [name for name in expected if (path / name).exists()]
        if clash and COMPLETE_MARKER in expected and not (path / COMPLETE_MARKER).exists():
            # report.json is written last: without it the files are what a killed run left; rerunning replaces them
            log.warning("%s: holds %s but no %s (an interrupted run); they will be replaced",
                        path, ", ".join(clash), COMPLETE_MARKER)
        elif clash:
            raise OutputExistsError(
                f"{path}: already holds {', '.join(clash)}; pass --overwrite to replace them"
            )
    _check_creatable(path)
    return path


def _check_creatable(path: Path) -> None:
    """The nearest existing folder on the way to ``path`` is a folder we may write in."""
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{path}: cannot be created, {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: not writable ({existing} does not allow writing)")


def check_output_file(path, *, overwrite: bool = False) -> Path:
    """Check an output file before any work: absent (or ``overwrite``), not a folder, and writable.

    Parameters
    ----------
    path : str or os.PathLike
        The file a command will write.
    overwrite : bool
        Whether an existing file may be replaced.

    Nothing is created.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is false.
    OutputError
        If ``path`` is a folder, or cannot be written.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> check_output_file(os.path.join(d, "new", "out.a3m")).name
    'out.a3m'
    >>> check_output_file(d)
    Traceback (most recent call last):
    ...
    protlm.errors.OutputError: ...: is a folder, expected a file name
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder, expected a file name")
    if path.exists():
        if not overwrite:
            raise OutputExistsError(f"{path}: exists; pass --overwrite to replace it")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise OutputError(f"{path}: not writable ({path.parent} does not allow writing)")
        return path
    parent = path.parent
    _check_creatable(parent if parent != Path("") else Path("."))
    return path


def copy_atomic(src, dst) -> None:
    """Copy ``src`` to ``dst`` atomically."""
    with open(src, "rb") as fin, atomic_write(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout)


def remove_stale_outputs(outdir, expected, *, since: float) -> list:
    """Delete the files of ``expected`` in ``outdir`` last written before ``since`` (a ``time.time()``).

    A command whose outputs depend on its options (plots only with ``--truth``)
    calls this after writing, so that a rerun with ``--overwrite`` leaves no
    file of the earlier run beside the new ones.

    Parameters
    ----------
    outdir : str or os.PathLike
    expected : iterable of str
        The file names the command may write.
    since : float
        When the command started.

    Returns
    -------
    list of str
        The names removed.

    Examples
    --------
    >>> import tempfile, time, os
    >>> d = tempfile.mkdtemp()
    >>> _ = open(os.path.join(d, "old.png"), "w").write("x")
    >>> remove_stale_outputs(d, ["old.png", "report.json"], since=time.time() + 1)
    ['old.png']
    """
    removed = []
    for name in expected:
        path = Path(outdir) / name
        if path.is_file() and path.stat().st_mtime < since:
            path.unlink()
            removed.append(name)
    return removed
