"""Figures of the import graph of gateway/ and adapters/: arrows, upward arrows, cycles, largest modules.

Not a benchmark of speed: a measurement of structure, printed so an issue's before/after can be compared.
An arrow is one (importing module, imported project module) pair, counted once however many names it brings
and wherever the import statement sits (module level or inside a function). An arrow is "upward" when it breaks
one of the rules in docs/architecture.md (the same rules tests/test_import_contracts.py enforces, plus the
layer order below for a tree that predates them). Usage: python bench/import_graph.py [root]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = ("gateway", "adapters")

# Layer of a module, lowest first. A module importing a module of a higher layer is an upward arrow, except for
# the composition root and the entry points (highest layers), which may import anything below them.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("errors", ("gateway.errors",)),
    ("config", ("gateway.config",)),
    ("foundation", ("gateway.findings", "gateway.ids", "gateway.logs", "gateway.faults", "gateway.xmlsafe",
                    "gateway.rfc", "gateway.fraccion")),
    ("store", ("gateway.store",)),
    ("kinds", ("gateway.kinds",)),
    ("runtime", ("gateway.ports", "gateway.archive", "gateway.health", "gateway.runtime")),
    ("correlation", ("gateway.correlation", "gateway.correlate", "gateway.xdoc")),
    ("core", ("gateway",)),
    ("adapters", ("adapters",)),
    ("root", ("gateway.app", "adapters.registry")),
    ("entry", ("gateway.cli", "gateway.__main__", "gateway.web", "gateway.receiver", "gateway.demo")),
]


def layer_of(module: str) -> int:
    best, best_len = 0, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(root, path)] = path
    return found


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest project module that `name` is or lies in."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def arrows_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from gateway import logs` imports the module gateway.logs; `from x import Name` imports x.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for name in names:
            target = resolve(name, modules)
            if target and target != module and target.split(".")[0] in PACKAGES:
                targets.add(target)
    return targets


def graph(root: Path) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {module: arrows_of(module, path, modules) for module, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    wrong = []
    for source, targets in edges.items():
        for target in targets:
            if target.startswith(source + "."):  # a package's __init__ re-exporting its own modules
                continue
            if layer_of(target) > layer_of(source):
                wrong.append((source, target))
    return sorted(wrong)


#: the composition root: the one core module that may import adapters (through adapters.registry)
COMPOSITION_ROOT = "gateway.app"
#: the one module that may import the demo package (besides the demo package itself)
DEMO_USERS = ("gateway.cli",)
#: what gateway.config may import: only the error tree, which imports nothing
CONFIG_MAY_IMPORT = ("gateway.errors",)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(edges: dict[str, set[str]]) -> list[str]:
    """The broken import contracts of docs/architecture.md, one line each (empty: all kept)."""
    found = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            if _within(source, "gateway") and source != COMPOSITION_ROOT and _within(target, "adapters"):
                found.append(f"core imports an adapter: {source} -> {target}")
            if _within(source, "gateway.kinds") and _within(target, "gateway.correlation"):
                found.append(f"a kind imports correlation: {source} -> {target}")
            if source == "gateway.config" and target not in CONFIG_MAY_IMPORT:
                found.append(f"the config module imports a project module: {source} -> {target}")
            if source == "gateway.errors":
                found.append(f"the error tree imports a project module: {source} -> {target}")
            if (_within(target, "gateway.demo") and not _within(source, "gateway.demo")
                    and source not in DEMO_USERS):
                found.append(f"the demo is imported by the product: {source} -> {target}")
    found += [f"import cycle: {' <-> '.join(group)}" for group in cycles(edges)]
    return found


def main(root: Path) -> None:
    edges = graph(root)
    modules = project_modules(root)
    print(f"modules: {len(edges)}")
    print(f"import arrows: {sum(len(targets) for targets in edges.values())}")
    wrong = upward(edges)
    print(f"upward arrows: {len(wrong)}")
    for source, target in wrong:
        print(f"  {source} ({LAYERS[layer_of(source)][0]}) -> {target} ({LAYERS[layer_of(target)][0]})")
    found = cycles(edges)
    print(f"import cycles (strongly connected groups): {len(found)}")
    for component in found:
        print("  " + " <-> ".join(component))
    sizes = sorted(((len(path.read_text(encoding="utf-8").splitlines()), name) for name, path in modules.items()),
                   reverse=True)
    print("largest modules (lines):")
    for lines, name in sizes[:8]:
        print(f"  {lines:5d}  {name}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent))
