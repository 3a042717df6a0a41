"""Which protlm names are public, for the API reference (conf.py) and its check (tests/test_public_api_documented.py).

One walk, two users: the pages the reference is generated from and the test that fails on an
undocumented public name see exactly the same modules and names.

* Modules: the packages in ``PACKAGES`` and every submodule below them whose dotted name has no
  part starting with ``_``.
* Names of a module: its ``__all__`` where defined; otherwise the functions and classes defined in
  the module itself (``obj.__module__`` is the module) whose names do not start with ``_``.
* Methods and properties of a public class: those defined in the class body whose names do not
  start with ``_``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

PACKAGES = ("protlm.io", "protlm.pairing", "protlm.sequencing", "protlm.models")


def public_modules(packages=PACKAGES) -> list[str]:
    """Dotted names of the documented modules, packages first, each followed by its submodules."""
    names = []
    for package in packages:
        names.append(package)
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                names.append(info.name)
    return names


def public_objects(module: ModuleType) -> list[tuple[str, object]]:
    """``(name, object)`` for the public functions and classes of ``module`` (rule in the module docstring)."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
            and getattr(obj, "__module__", None) == module.__name__
        ]
    objects = [(name, getattr(module, name, None)) for name in names]
    return [(name, obj) for name, obj in objects if inspect.isfunction(obj) or inspect.isclass(obj)]


def public_members(cls: type) -> list[tuple[str, object]]:
    """``(name, function)`` for the public methods and properties defined in ``cls``'s own body."""
    members = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        func = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
        if inspect.isfunction(func):
            members.append((name, func))
    return members
