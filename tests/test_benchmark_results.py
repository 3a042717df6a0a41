"""Every file in benchmarks/results/ says how it was made, and names no machine's absolute paths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
ABSOLUTE = re.compile(r"(^|[\s'\"(=])/(work|root|home|tmp|Users|mnt|opt|var)/")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda p: p.name)
def test_results_record_their_command_and_commit(path):
    report = json.loads(path.read_text())
    assert str(report.get("command", "")).startswith("python benchmarks/"), "no command recorded"
    assert re.fullmatch(r"[0-9a-f]{40}", str(report.get("git_commit"))), "no git commit recorded"


@pytest.mark.parametrize("path", sorted(RESULTS.iterdir()), ids=lambda p: p.name)
def test_no_absolute_machine_paths(path):
    if path.suffix not in (".json", ".md", ".txt", ".log", ".tsv"):
        return
    bad = [s for s in _strings(json.loads(path.read_text())) if ABSOLUTE.search(s)] if path.suffix == ".json" \
        else [line for line in path.read_text().splitlines() if ABSOLUTE.search(line)]
    assert not bad, bad[:3]


def test_every_results_file_has_a_script():
    """A results file is written by the benchmark script of the same stem (or a script that names it)."""
    scripts = {p.stem: p.read_text() for p in RESULTS.parent.glob("*.py")}
    for path in RESULTS.iterdir():
        stem = path.stem
        assert stem in scripts or any(path.name in text for text in scripts.values()), path.name


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda p: p.name)
def test_results_come_from_a_clean_tree(path):
    """No results file was written by code that differed from its recorded commit."""
    report = json.loads(path.read_text())
    assert report.get("git_dirty") in (False, None), "written from a tree with uncommitted code changes"
    assert not report.get("dirty_files"), report.get("dirty_files")
