"""Run the examples in protlm.io's docstrings (numpydoc examples must run)."""

import doctest
import importlib
import pkgutil

import pytest

import protlm.io

MODULES = sorted(m.name for m in pkgutil.iter_modules(protlm.io.__path__, "protlm.io."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_io_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, protlm.io; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
