"""Shared fixtures.  Real data live in ../shared/data (tests may read it; the package may not)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"
PARITY = SHARED / "parity"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests need the project's shared data next to the checkout")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return _need(SHARED_DATA)


@pytest.fixture(scope="session")
def parity_dir() -> Path:
    return _need(PARITY)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
