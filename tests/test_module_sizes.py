"""No module in protlm/ has more than 450 lines unless it says why near its top (issue 15).

A module over the limit must hold, within its first 60 lines, a comment line starting ``# Size:``
that gives the reason (e.g. ``# Size: one numba kernel per case; splitting them would ...``).
There is no allowlist: a module grows past the limit only with its reason written where the next
reader sees it.  Each module is its own test case, so a failure names the module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 450
TOP_LINES = 60
MODULES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "protlm").rglob("*.py"))


def size_problem(text: str, *, max_lines: int = MAX_LINES, top_lines: int = TOP_LINES) -> str | None:
    """Why a module's text breaks the rule, or None when it keeps it."""
    lines = text.splitlines()
    if len(lines) <= max_lines:
        return None
    reason = [line for line in lines[:top_lines] if line.lstrip().startswith("# Size:") and line.split(":", 1)[1].strip()]
    if reason:
        return None
    return f"{len(lines)} lines (limit {max_lines}) and no '# Size: <reason>' comment in its first {top_lines} lines"


@pytest.mark.parametrize("module", MODULES)
def test_module_is_small_or_says_why(module):
    problem = size_problem((ROOT / module).read_text(encoding="utf-8"))
    assert problem is None, f"{module}: {problem}; split it along a real seam or write why at its top"


def test_the_rule_itself():
    short = "x = 1\n" * 10
    long = "x = 1\n" * 451
    assert size_problem(short) is None
    assert "451 lines" in size_problem(long)
    assert size_problem("# Size: one table per residue, generated\n" + long) is None
    assert size_problem("# Size:\n" + long) is not None             # a reason must be given
    assert size_problem("x = 1\n" * 61 + "# Size: too late\n" + long) is not None  # near the top only
    assert MODULES and all(m.startswith("protlm/") for m in MODULES)
