"""Every public name of protlm.io, protlm.pairing, protlm.sequencing and protlm.models is documented.

The names are those the API reference documents (``docs/public_api.py``: a module's ``__all__``,
else the functions and classes it defines whose names do not start with ``_``; submodules whose
dotted name has a part starting with ``_`` are private).  The rule, checked on each:

* every module has a docstring;
* every public function and class has a docstring whose first line is a summary;
* a public function that takes parameters (other than ``self``/``cls``) has a numpydoc
  ``Parameters`` section;
* every public method and property defined in a public class has a docstring.

The test lists every name that breaks the rule, so one run shows all there is to fix; there is
no allowlist: new public code is documented when it lands.  ``python
tests/test_public_api_documented.py`` prints the same list.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _public_api():
    spec = importlib.util.spec_from_file_location("protlm_docs_public_api", ROOT / "docs" / "public_api.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _has_parameters_section(doc: str) -> bool:
    return re.search(r"^Parameters\n-{3,}$", doc, re.M) is not None


def _takes_parameters(func) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return any(name not in ("self", "cls") for name in params)


def undocumented() -> list[str]:
    """Every public name that breaks the rule, as ``module.name: what is missing``."""
    api = _public_api()
    problems, seen = [], set()
    for name in api.public_modules():
        module = importlib.import_module(name)
        if not (module.__doc__ or "").strip():
            problems.append(f"{name}: module has no docstring")
        for missing in [n for n in getattr(module, "__all__", ()) if not hasattr(module, n)]:
            problems.append(f"{name}.{missing}: listed in __all__ but not defined")
        for short, obj in api.public_objects(module):
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            where = f"{obj.__module__}.{obj.__qualname__}"
            doc = inspect.getdoc(obj) or ""
            if not doc.strip() or not doc.splitlines()[0].strip():
                problems.append(f"{where}: no docstring summary line")
                continue
            if inspect.isfunction(obj) and _takes_parameters(obj) and not _has_parameters_section(doc):
                problems.append(f"{where}: no Parameters section")
            if inspect.isclass(obj):
                for member, func in api.public_members(obj):
                    if not (func.__doc__ or "").strip():
                        problems.append(f"{where}.{member}: no docstring")
    return problems


def test_walk_finds_the_documented_packages():
    names = _public_api().public_modules()
    assert {"protlm.io", "protlm.io.fasta", "protlm.pairing.diffpalm", "protlm.sequencing.reference",
            "protlm.models.weights"} <= set(names)
    assert not any(part.startswith("_") for name in names for part in name.split("."))


def test_every_public_name_is_documented():
    problems = undocumented()
    assert not problems, f"{len(problems)} public names are not documented:\n" + "\n".join(problems)


if __name__ == "__main__":
    print("\n".join(undocumented()))
