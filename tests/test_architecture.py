"""The layers of protlm point down only, and no two protlm modules import each other (even inside functions).

Layers (README "Architecture"): ``errors`` at the bottom; ``io`` (torch-free readers, and ``report``) above it;
then ``models``;
then ``pairing`` and ``sequencing`` (and ``search``); then ``cli`` (and the top-level helpers ``report``, ``plots``,
``summary``).  A module may import only from its own layer or below.  The imports are read from the source
(``ast``), function-level imports included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import protlm

PACKAGE = Path(protlm.__file__).resolve().parent

# rank of each top-level part of protlm: an import must go to an equal or lower rank
RANKS = {
    "__init__": 0, "errors": 0, "_version": 0,
    "io": 1,
    "models": 2,
    "pairing": 3, "sequencing": 3, "search": 3,
    "report": 1,  # run records (JSON, versions): a utility beside io, importing only io.atomic
    "plots": 4, "summary": 4,
    "cli": 5,
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports() -> dict:
    """module -> set of protlm modules it imports (anywhere in its source)."""
    names = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        me = _module_name(path)
        is_pkg = path.name == "__init__.py"
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = me.split(".") if is_pkg else me.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                mods = [mod] + [f"{mod}.{a.name}" for a in node.names]
            else:
                continue
            for m in mods:
                if m in names and m != me:
                    targets.add(m)
        graph[me] = targets
    return graph


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_part_has_a_rank():
    assert {_part(m) for m in _imports()} <= set(RANKS), set(_part(m) for m in _imports()) - set(RANKS)


def test_layers_point_down():
    bad = sorted(f"{a} -> {b}" for a, targets in _imports().items() for b in targets
                 if _part(a) != "__init__" and RANKS[_part(b)] > RANKS[_part(a)])
    assert not bad, "imports that point up a layer:\n" + "\n".join(bad)


def test_no_import_cycles():
    graph = _imports()
    # a package's __init__ re-exporting its own modules is not a cycle of those modules
    edges = {a: {b for b in t if not (b == a.rsplit(".", 1)[0] or a == b.rsplit(".", 1)[0])} for a, t in graph.items()}
    cycles, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                cycles.append(stack[stack.index(m):] + [m])
            elif not state.get(m):
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(edges):
        if not state.get(n):
            visit(n)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)
