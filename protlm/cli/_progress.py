"""Progress display for the CLI (the library only calls callbacks)."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def progress_callback(*, desc: str, total=None, unit: str = "it"):
    """Yield ``callback(done, total=None, **postfix)`` that draws a tqdm bar on a TTY.

    Off a TTY (pipes, Snakemake logs) it draws nothing: the library's log lines
    already say how far the work is.
    """
    if not sys.stderr.isatty():
        yield lambda *a, **k: None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr)

    def callback(done, total=None, **postfix):
        if total is not None and bar.total != total:
            bar.total = total
        bar.n = done
        if postfix:
            bar.set_postfix({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in postfix.items()}, refresh=False)
        bar.refresh()

    try:
        yield callback
    finally:
        bar.close()
