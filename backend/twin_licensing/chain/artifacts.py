"""Contract ABIs and bytecode, read from Hardhat's artifacts directory (never pasted into code)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

from ..errors import ArtifactNotFoundError, ConfigurationError


@dataclass(frozen=True)
class Artifact:
    name: str
    source_name: str
    abi: list[dict[str, Any]] = field(repr=False)
    bytecode: str = field(repr=False)  # 0x-hex creation code; "0x" for interfaces and abstract contracts
    # Linked libraries: {source: {library: [{"start": byte offset, "length": 20}, ...]}}, placeholders in `bytecode`.
    link_references: dict[str, dict[str, list[dict[str, int]]]] = field(default_factory=dict, repr=False)

    @property
    def libraries(self) -> list[str]:
        """The names of the libraries whose addresses must be linked into the bytecode before deploying."""
        return sorted({name for refs in self.link_references.values() for name in refs})

    def linked(self, addresses: dict[str, str]) -> str:
        """The creation code with each library's placeholder replaced by its address in `addresses` (by name)."""
        hex_code = self.bytecode[2:]
        for refs in self.link_references.values():
            for name, places in refs.items():
                if name not in addresses:
                    raise ConfigurationError(f"{self.name} needs the address of library {name} to be deployed")
                address = addresses[name].lower().removeprefix("0x")
                for place in places:
                    start = 2 * place["start"]
                    hex_code = hex_code[:start] + address + hex_code[start + 2 * place["length"] :]
        return "0x" + hex_code


class ArtifactStore:
    """Finds artifacts by contract name under `<artifacts>/`, the tree `hardhat compile` writes."""

    def __init__(self, artifacts_dir: Path) -> None:
        self.root = Path(artifacts_dir)

    def _files(self) -> Iterator[Path]:
        if not self.root.is_dir():
            return iter(())
        # build-info holds whole compiler outputs and *.dbg.json only point at them: neither is an artifact.
        return (
            path
            for path in sorted(self.root.rglob("*.json"))
            if not path.name.endswith(".dbg.json") and "build-info" not in path.relative_to(self.root).parts
        )

    @cached_property
    def _index(self) -> dict[str, list[Path]]:
        index: dict[str, list[Path]] = {}
        for path in self._files():
            index.setdefault(path.stem, []).append(path)
        return index

    def load(self, name: str) -> Artifact:
        """The artifact of contract `name`, preferring the project's own contracts over a library's namesake."""
        if name not in self._loaded:
            self._loaded[name] = self._load(name)
        return self._loaded[name]

    @cached_property
    def _loaded(self) -> dict[str, Artifact]:
        return {}

    def _load(self, name: str, retry: bool = True) -> Artifact:
        paths = self._index.get(name, [])
        own = [p for p in paths if p.relative_to(self.root).parts[0] == "contracts"]
        try:
            if paths:
                return _read(own[0] if own else paths[0])
        except FileNotFoundError:
            pass  # a recompilation moved it: look again below
        if retry:
            self.__dict__.pop("_index", None)
            return self._load(name, retry=False)
        raise ArtifactNotFoundError(
            f"no artifact for contract {name!r} under {self.root}; run `node_modules/.bin/hardhat compile`"
        )

    def all(self) -> list[Artifact]:
        """Every artifact, the project's and its libraries' (their errors can surface through our contracts)."""
        artifacts = []
        for paths in self._index.values():
            for path in paths:
                try:
                    artifacts.append(_read(path))
                except FileNotFoundError:
                    continue
        return artifacts


def _read(path: Path) -> Artifact:
    data = json.loads(path.read_text())
    return Artifact(
        name=data["contractName"],
        source_name=data.get("sourceName", ""),
        abi=data["abi"],
        bytecode=data.get("bytecode", "0x"),
        link_references=data.get("linkReferences") or {},
    )
