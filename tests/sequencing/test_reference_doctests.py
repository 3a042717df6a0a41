"""The examples in the reference-guided sequencing modules' docstrings run; those modules need no torch."""

import doctest
import importlib
import subprocess
import sys

import pytest

MODULES = ["protlm.sequencing.index", "protlm.sequencing.reference", "protlm.sequencing.hybrid", "protlm.models.esm2"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_reference_search_does_not_import_torch():
    code = "import sys, protlm.sequencing.hybrid, protlm.cli.index; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
