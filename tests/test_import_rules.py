"""Architecture rules read from the source with `ast`: who may import the chain libraries, and no import cycles
between the backend's packages.

Why: everything that talks to the chain goes through `twin_licensing.chain` (one transport, one fee and nonce
policy, one place to swap a library), and a cycle between two packages means neither can be understood, tested
or replaced alone.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path


PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "backend" / "twin_licensing"
PACKAGE = PACKAGE_ROOT.name
# Libraries that reach the chain (or sign for it): only chain/ may import them.
CHAIN_ONLY = {"web3", "eth_account", "eth_abi", "eth_utils", "eth_keys", "eth_typing", "hexbytes", "requests",
              "urllib3", "websockets", "httpx"}


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """Absolute names of everything `module` imports (relative imports resolved), with line numbers."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # `from . import x` / `from ..pkg import mod` may name modules, not only attributes.
            found.extend((f"{target}.{alias.name}", node.lineno) for alias in node.names)
    return found


def _subpackage(name: str) -> str | None:
    """`twin_licensing.usage.intake` -> `usage`; top-level modules (settings, errors, cli) are their own unit."""
    parts = name.split(".")
    if parts[0] != PACKAGE or len(parts) < 2:
        return None
    return parts[1]


MODULES = _modules()


def test_the_module_walk_sees_the_package():
    # A rule over no files passes whatever the code does: make sure the walk found the real package.
    assert f"{PACKAGE}.chain.client" in MODULES and f"{PACKAGE}.settlement.settler" in MODULES
    assert len(MODULES) > 50


def test_only_the_chain_package_imports_chain_libraries():
    offenders = []
    for module, path in MODULES.items():
        if _subpackage(module) == "chain":
            continue
        for name, line in _imports(module, path):
            if name.split(".")[0] in CHAIN_ONLY:
                offenders.append(f"{path.relative_to(PACKAGE_ROOT.parent)}:{line} imports {name.split('.')[0]}")
    assert not sorted(set(offenders)), "only twin_licensing.chain may import these:\n" + "\n".join(sorted(set(offenders)))


def _package_graph() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> the `file:line` that import it."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for module, path in MODULES.items():
        source = _subpackage(module)
        if source is None:
            continue
        for name, line in _imports(module, path):
            target = _subpackage(name)
            if target is not None and target != source and f"{PACKAGE}.{target}" in MODULES:
                graph[source][target].append(f"{path.relative_to(PACKAGE_ROOT.parent)}:{line}")
    return graph


def _cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_cycle_finder_finds_a_cycle():
    # The rule below is only as good as this: a known cycle must be reported, a chain must not.
    assert _cycles({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b": []}, "b": {"c": []}}) == []


def _describe(graph, component: list[str]) -> str:
    lines = []
    for source in component:
        for target in component:
            for where in graph[source].get(target, [])[:3]:
                lines.append(f"  {source} -> {target}: {where}")
    return "\n".join(lines)


def test_no_import_cycle_between_packages():
    graph = _package_graph()
    cycles = _cycles(graph)
    assert not cycles, "packages import each other in a cycle:\n" + "\n\n".join(_describe(graph, c) for c in cycles)


def test_every_exception_class_derives_from_the_project_root():
    """The console and the API turn a `TwinLicensingError` into one line or an HTTP status; an exception class
    outside that tree would surface as a traceback. Imported, not parsed: a base may come from another module."""
    import importlib
    import inspect

    from twin_licensing.errors import TwinLicensingError

    strays = []
    for module in _modules():
        if ".migrations" in module:  # Alembic's scripts run only inside Alembic
            continue
        loaded = importlib.import_module(module)
        for name, value in vars(loaded).items():
            if (inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == module
                    and not issubclass(value, TwinLicensingError)):
                strays.append(f"{module}.{name}")
    assert not strays, "exceptions outside TwinLicensingError: " + ", ".join(strays)
