"""The reference-guided sequencing modules need no torch (their docstring examples run in tests/test_doctests.py)."""

import subprocess
import sys


def test_reference_search_does_not_import_torch():
    code = "import sys, protlm.sequencing.hybrid, protlm.cli.index; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
