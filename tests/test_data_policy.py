"""The test-data policy of tests/conftest.py: skip on a user's bare clone, fail under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# a test that needs a file only the shared folder has (GPL-3.0, never bundled)
PROBE = "tests/pairing/test_random.py"


def _pytest(tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_XDIST_WORKER")}
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", PROBE],
                          cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_bare_clone_skips_with_one_summary_line(tmp_path):
    res = _pytest(tmp_path, PROTLM_TEST_DATA=str(tmp_path / "absent"))
    assert res.returncode == 0, res.stdout + res.stderr
    lines = [l for l in res.stdout.splitlines() if "need the shared test data folder" in l]
    assert len(lines) == 1 and "PROTLM_TEST_DATA" in lines[0], res.stdout
    assert "skipped" in res.stdout.splitlines()[-1]


@pytest.mark.slow
def test_ci_without_shared_data_fails_naming_it(tmp_path):
    missing = tmp_path / "absent"
    res = _pytest(tmp_path, CI="true", PROTLM_TEST_DATA=str(missing))
    assert res.returncode != 0
    assert str(missing) in res.stdout + res.stderr and "CI=true" in res.stdout + res.stderr


def test_bundled_files_are_the_shared_files(shared_data):
    """Every file in tests/data/ (outside external/) is a byte-for-byte copy of the shared file it stands for."""
    bundled = ROOT / "tests" / "data"
    files = [p for p in bundled.rglob("*") if p.is_file() and p.name != "README.md" and "external" not in p.parts]
    assert len(files) >= 20
    for path in files:
        rel = path.relative_to(bundled)
        assert path.read_bytes() == (shared_data / rel).read_bytes(), rel
