"""A CommonJS library from `node_modules` served to the browser as one ES module, with no build step.

`@openzeppelin/merkle-tree` (the browser's proof check, `pages/usage_log.js`) ships CommonJS only. `commonjs_module`
follows its `require` calls from the entry file through `node_modules` (relative paths, packages and their
`main`, nested `node_modules`, a package's `browser` replacements), wraps each file in a function and appends a
tiny loader that runs them on demand, exporting the entry's exports. A module can be replaced by a stand-in:
the merkle tree's ABI encoder (`@metamask/abi-utils`, whose dependencies reach far beyond what the tree needs)
is ethers' `AbiCoder` (the same standard ABI encoding), imported from the ethers the client already loads.
Node built-ins are empty objects (the tree only uses them for randomness it never asks for).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import TwinLicensingError

_REQUIRE = re.compile(r"""\brequire\(\s*["']([^"']+)["']\s*\)""")
_BUILTINS = {"crypto", "node:crypto", "fs", "path", "os", "util", "buffer", "stream"}


class BundleError(TwinLicensingError, LookupError):
    pass


def _package_dir(start: Path, name: str, root: Path) -> Path:
    here = start
    while True:
        candidate = here / "node_modules" / name
        if candidate.is_dir():
            return candidate
        if here == root or here.parent == here:
            raise BundleError(f"cannot find package {name} from {start}")
        here = here.parent


def _file(path: Path) -> Path | None:
    for candidate in (path, path.with_name(path.name + ".js"), path / "index.js"):
        if candidate.is_file():
            return candidate
    return None


def _browser_map(package: Path) -> dict[str, object]:
    manifest = json.loads((package / "package.json").read_text())
    browser = manifest.get("browser")
    return browser if isinstance(browser, dict) else {}


def _resolve(spec: str, source: Path, root: Path) -> Path:
    if spec.startswith("."):
        found = _file((source.parent / spec).resolve())
    else:
        parts = spec.split("/")
        name = "/".join(parts[:2]) if spec.startswith("@") else parts[0]
        subpath = spec[len(name):].lstrip("/")
        package = _package_dir(source.parent, name, root)
        replaced = _browser_map(package).get("./" + subpath) if subpath else None
        if isinstance(replaced, str):
            subpath = replaced.removeprefix("./")
        if subpath:
            found = _file(package / subpath)
        else:
            main = json.loads((package / "package.json").read_text()).get("main", "index.js")
            found = _file(package / main)
    if found is None:
        raise BundleError(f"cannot resolve {spec!r} from {source}")
    return found


def commonjs_module(entry: Path, node_modules_root: Path, stand_ins: dict[str, str], prelude: str = "") -> str:
    """The ES module text: `prelude` (imports the stand-ins use), the wrapped files, `export default` the entry's
    exports. `stand_ins` maps a require specifier to the JavaScript expression of the module object it gives."""
    root = node_modules_root.resolve()
    ids: dict[Path, int] = {}
    order: list[Path] = []
    bodies: dict[int, str] = {}

    def visit(path: Path) -> int:
        if path in ids:
            return ids[path]
        ids[path] = len(order)
        order.append(path)
        source = path.read_text()
        mapping: dict[str, str] = {}
        for spec in set(_REQUIRE.findall(source)):
            if spec in stand_ins:
                mapping[spec] = f"stand({json.dumps(spec)})"
            elif spec in _BUILTINS:
                mapping[spec] = "{}"
            else:
                mapping[spec] = f"load({visit(_resolve(spec, path, root))})"

        def replace(match: re.Match) -> str:
            return mapping[match.group(1)]

        bodies[ids[path]] = _REQUIRE.sub(replace, source)
        return ids[path]

    visit(entry.resolve())
    parts = [prelude, "const standIns = {"]
    parts += [f"  {json.dumps(spec)}: {expr}," for spec, expr in stand_ins.items()]
    parts.append("};\nconst stand = (spec) => standIns[spec];\nconst factories = [")
    for number in range(len(order)):
        name = order[number].relative_to(root).as_posix()
        parts.append(f"// {name}\nfunction (module, exports) {{\n{bodies[number]}\n}},")
    parts.append(
        "];\nconst cache = [];\n"
        "function load(id) {\n"
        "  if (!cache[id]) {\n"
        "    const module = { exports: {} };\n"
        "    cache[id] = module;\n"
        "    factories[id].call(module.exports, module, module.exports);\n"
        "  }\n"
        "  return cache[id].exports;\n"
        "}\n"
        "export default load(0);\n"
    )
    return "\n".join(parts)
