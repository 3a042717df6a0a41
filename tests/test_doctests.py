"""The examples in every protlm module's docstrings run (numpydoc examples must run)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import protlm

MODULES = sorted(m.name for m in pkgutil.walk_packages(protlm.__path__, "protlm."))


def test_every_module_is_collected():
    assert {"protlm.io.fasta", "protlm.pairing.diffpalm", "protlm.sequencing.index", "protlm.cli.pair"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    monkeypatch.setenv("PROTLM_CACHE_DIR", str(tmp_path / "cache"))
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
