"""The one direction of dependence (README, Layout): a package of ``ts2`` imports only packages of
a lower layer, never a higher one, whether the import is at the top of a module or inside a
function. Read from the source with ``ast``, so a lazy import cannot hide an upward edge."""

from __future__ import annotations

import ast
from pathlib import Path

import ts2

SRC = Path(ts2.__file__).parent

# Bottom to top. Packages of one layer do not import each other.
LAYERS = [
    {"ops", "metrics", "sandbox", "protocols"},  # torch only, pure functions, the sandbox, prompt texts
    {"losses", "formats"},
    {"hf"},
    {"training", "generate"},
    {"eval"},
    {"compare"},
    {"demo"},
    {"cli"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
ROOT = "__init__"  # ts2/__init__.py: the public exports (and __version__), allowed from anywhere


def _imported_packages(path: Path, src: Path = SRC) -> set[str]:
    """Top-level ts2 packages that the module at ``path`` (under ``src``) imports."""
    parts = path.relative_to(src).with_suffix("").parts
    package = list(parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - (node.level - 1)]
            target = base + (node.module.split(".") if node.module else [alias.name for alias in node.names])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ts2":
            target = node.module.split(".")[1:] or [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            target = next((alias.name.split(".")[1:] for alias in node.names
                           if alias.name.split(".")[0] == "ts2"), None)
            if target is None:
                continue
        else:
            continue
        found.add(target[0] if target and target[0] in RANK else ROOT)
    return found


def _package_of(path: Path) -> str:
    return path.relative_to(SRC).with_suffix("").parts[0]


def test_every_package_is_in_a_layer():
    packages = {_package_of(path) for path in SRC.rglob("*.py")} - {ROOT}
    assert packages == set(RANK), f"place these in LAYERS: {packages ^ set(RANK)}"


def test_imports_only_go_down():
    upward = []
    for path in sorted(SRC.rglob("*.py")):
        me = _package_of(path)
        if me == ROOT:
            continue
        for other in _imported_packages(path) - {me, ROOT}:
            if RANK[other] >= RANK[me]:
                upward.append(f"{path.relative_to(SRC)} imports ts2.{other}")
    assert not upward, "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path):
    # A lazy relative import inside a function, and an absolute one, in a copy of a real module.
    fake = tmp_path / "ops" / "sampling.py"
    fake.parent.mkdir()
    fake.write_text((SRC / "ops" / "sampling.py").read_text()
                    + "\n\ndef _late():\n    from ..compare import run\n    import ts2.eval.probe\n")
    assert _imported_packages(SRC / "ops" / "sampling.py") <= {"ops"}
    assert _imported_packages(fake, src=tmp_path) - {"ops"} == {"compare", "eval"}


def test_only_onednn_names_torchs_private_operators():
    """torch.ops.mkldnn is private to torch: one module names it, checks it and falls back."""
    naming = sorted(str(path.relative_to(SRC)) for path in SRC.rglob("*.py") if "torch.ops.mkldnn" in path.read_text())
    assert naming == ["generate/native/onednn.py"]


def _is_module(parts: list[str]) -> bool:
    return SRC.joinpath(*parts).with_suffix(".py").is_file() or (SRC.joinpath(*parts) / "__init__.py").is_file()


def _module_imports(path: Path) -> set[str]:
    """The ts2 modules (dotted, under ``ts2``) that the module at ``path`` imports, lazily or not;
    ``from package import name`` counts as the submodule when ``name`` is one, else the package."""
    package = list(path.relative_to(SRC).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - (node.level - 1)] + (node.module.split(".") if node.module else [])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ts2":
            base = node.module.split(".")[1:]
        elif isinstance(node, ast.Import):
            found |= {".".join(a.name.split(".")[1:]) for a in node.names if a.name.split(".")[0] == "ts2"}
            continue
        else:
            continue
        found |= {".".join(base + [a.name] if _is_module(base + [a.name]) else base) for a in node.names}
    return {m for m in found if m}


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    """Every cycle a depth-first walk of ``graph`` (module -> imported modules) closes."""
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_no_module_import_cycles():
    """No two modules import each other, directly or through others, lazily or not (a package's
    ``__init__``, which re-exports its modules, is left out)."""
    graph = {".".join(path.relative_to(SRC).with_suffix("").parts): _module_imports(path)
             for path in SRC.rglob("*.py") if path.name != "__init__.py"}
    assert not _cycles(graph), "\n".join(_cycles(graph))
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a -> b -> c -> a"]
    assert "generate.native.loop" in graph["generate.native.engine"]  # submodules are resolved
