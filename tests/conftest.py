"""Shared fixtures, and where the tests find their data.

Two places hold test data:

* ``tests/data/`` (in the repository): small, permissively licensed files,
  byte-for-byte copies laid out as in the project's shared data folder
  (see ``tests/data/README.md``).  Every clone has them.
* the project's shared data folder, which holds the rest (the GPL-3.0 HK-RR
  sets, the 20k UniProt sample, the DiffPALM parity fixture).  It is looked
  for at ``$PROTLM_TEST_DATA`` (a folder holding ``data/`` and ``parity/``) or,
  by default, ``../shared`` beside the checkout.  A user's clone does not have it.

A test that asks for a file found in neither place is skipped on a user's
machine, and the run ends with one line saying how many were skipped and how
to supply the data.  Under ``CI=true`` the same test *fails*, so that CI can
never go green by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "tests" / "data"
SKIP_PREFIX = "needs the project's shared test data"


def shared_root() -> Path:
    """The shared folder: ``$PROTLM_TEST_DATA`` or ``../shared`` beside the checkout."""
    env = os.environ.get("PROTLM_TEST_DATA")
    return Path(env) if env else ROOT.parent / "shared"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _missing(what: str) -> None:
    where = shared_root()
    message = (f"{SKIP_PREFIX}: {what} is not in tests/data and {where} does not have it "
               "(put the shared folder beside the checkout or set PROTLM_TEST_DATA)")
    if in_ci():
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


def data_file(rel: str) -> Path:
    """The data file ``rel`` (e.g. ``"msa/fn3.sto"``): bundled copy first, then the shared folder.

    Skips the calling test (fails it under ``CI=true``) when neither has it.
    """
    for base in (BUNDLED, shared_root() / "data"):
        path = base / rel
        if path.exists():
            return path
    _missing(f"data/{rel}")
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def data():
    """``data("pairing/malg.fasta")`` -> the path of that test data file (see the module docstring)."""
    return data_file


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The whole shared data folder, for tests that list or scan it (skips on a bare clone)."""
    path = shared_root() / "data"
    if not path.is_dir():
        _missing("the data/ folder")
    return path


@pytest.fixture(scope="session")
def parity_dir() -> Path:
    path = shared_root() / "parity"
    if not path.is_dir():
        _missing("the DiffPALM parity fixture (parity/)")
    return path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


def pytest_sessionstart(session):
    if in_ci() and not shared_root().is_dir():
        raise pytest.UsageError(
            f"CI=true but the shared test data folder {shared_root()} is missing: "
            "CI must run with ../shared beside the checkout (or PROTLM_TEST_DATA set); refusing to skip its tests")


def pytest_terminal_summary(terminalreporter):
    """One line for the skips that want the shared data; one line per other skip reason."""
    reasons = [str(rep.longrepr[2]) if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
               for rep in terminalreporter.stats.get("skipped", [])]
    n_data = sum(SKIP_PREFIX in r for r in reasons)
    if n_data:
        terminalreporter.write_line(
            f"{n_data} tests skipped: they need the shared test data folder, and {shared_root()} was not found; "
            "put the shared folder beside the checkout or set PROTLM_TEST_DATA to run them.")
    for reason in sorted({r for r in reasons if SKIP_PREFIX not in r}):
        terminalreporter.write_line(f"{reasons.count(reason)} skipped: {reason}")
