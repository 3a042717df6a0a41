"""protlm.io stays torch-free (its docstring examples run in tests/test_doctests.py)."""

import subprocess
import sys


def test_io_does_not_import_torch():
    code = "import sys, protlm.io; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
