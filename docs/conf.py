"""Sphinx configuration for protlm's documentation (``make docs``; warnings are errors).

The API pages are generated here, at every build, from the same walk that
``tests/test_public_api_documented.py`` checks (``docs/public_api.py``): every public
module of ``protlm.io``, ``protlm.pairing``, ``protlm.sequencing`` and ``protlm.models``
gets a page, and every public function or class is documented exactly once, on the page
of the module that defines it (or, when that module is private, of the first public
module that exports it).  Tutorials are MyST notebooks executed at build time (myst-nb,
cached under ``docs/_build/.jupyter_cache``), so their figures are in the pages.
"""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import protlm  # noqa: E402
from public_api import public_modules, public_objects  # noqa: E402

project = "protlm"
author = "protlm developers"
copyright = "protlm developers, Apache-2.0"
release = protlm.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]

exclude_patterns = ["_build", "public_api.py", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
html_theme = "furo"
html_title = f"protlm {release}"
html_static_path: list[str] = []

# --- API reference -----------------------------------------------------------
autodoc_default_options = {"show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # the numpydoc sections carry the types
autosummary_generate = False        # pages are written below, not by autosummary
numpydoc_show_class_members = False  # autodoc lists members; numpydoc's tables would repeat them
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False

# --- tutorials (myst-nb) -----------------------------------------------------
nb_execution_mode = os.environ.get("PROTLM_DOCS_EXECUTE", "cache")
nb_execution_cache_path = str(HERE / "_build" / ".jupyter_cache")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

# the tutorials run protlm on the bundled data; they find the repository through this variable
os.environ["PROTLM_REPO"] = str(ROOT)


def _owners(modules):
    """Map each public object to the page that documents it: its defining module if public, else its first exporter."""
    owners = {}
    for name in modules:
        module = sys.modules[name]
        for _, obj in public_objects(module):
            home = getattr(obj, "__module__", None)
            if home in modules:
                owners.setdefault(id(obj), home)
            else:
                owners.setdefault(id(obj), name)
    return owners


def _write_api_pages(outdir: Path) -> None:
    import importlib

    modules = public_modules()
    for name in modules:
        importlib.import_module(name)
    owners = _owners(modules)
    outdir.mkdir(parents=True, exist_ok=True)
    pages = {}
    for name in modules:
        module = sys.modules[name]
        lines = [name, "=" * len(name), "", f".. automodule:: {name}", "   :no-members:", ""]
        documented, linked = [], []
        for short, obj in public_objects(module):
            (documented if owners[id(obj)] == name else linked).append((short, obj))
        if linked:
            lines += [f"Also importable from ``{name}``:", "", ".. currentmodule:: None", "", ".. autosummary::",
                      "   :nosignatures:", ""]
            lines += [f"   ~{owners[id(obj)]}.{obj.__qualname__}" for _, obj in linked]
            lines.append("")
        if documented:
            lines += [".. currentmodule:: " + name, ""]
            for short, obj in documented:
                if inspect.isclass(obj):
                    lines += [f".. autoclass:: {short}", "   :members:", ""]
                else:
                    lines += [f".. autofunction:: {short}", ""]
        children = [m for m in modules if m.rpartition(".")[0] == name]
        if children:
            lines += ["Submodules", "----------", "", ".. toctree::", "   :maxdepth: 1", ""]
            lines += [f"   {child}" for child in children]
            lines.append("")
        pages[name] = "\n".join(lines)
    for name, text in pages.items():
        path = outdir / f"{name}.rst"
        if not path.exists() or path.read_text() != text:  # unchanged pages keep their time stamp
            path.write_text(text)
    for stale in outdir.glob("*.rst"):
        if stale.stem not in pages:
            stale.unlink()


_write_api_pages(HERE / "api" / "generated")


def _skip_namedtuple_fields(app, what, name, obj, skip, options):
    """NamedTuple fields are listed in the class's Attributes section; autodoc would list them again."""
    if type(obj).__name__ == "_tuplegetter":
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_namedtuple_fields)
