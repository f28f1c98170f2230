"""The layout's promises (docs/architecture.md): arrows point down, no private name crosses."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "statelab"

#: docs/architecture.md's layers: a module imports only its own folder or a lower layer.
LAYERS = {
    "go": 0, "latency": 0, "runtime": 0,
    "errors": 1,
    "stores": 2,
    "analysis": 3, "dapr": 3,
    "render": 4, "sim": 4, "server": 4,
    "widgets": 5, "exercises": 5, "local_only": 5,
    # The entry points sit on top: the lazy API and ``statelab run``, then ``python -m``.
    "__init__": 6, "cli": 6,
    "__main__": 7,
}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(parts), path))
    return found


def _part(module: str) -> str:
    """The folder (or top-level module) a ``statelab...`` module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    return [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, (ast.ImportFrom, ast.Import))]


def _targets(node: ast.ImportFrom | ast.Import) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [node.module] if node.module and node.module.startswith("statelab") else []
    return [alias.name for alias in node.names if alias.name.startswith("statelab")]


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_imports_point_down_the_layers(module: str, path: Path) -> None:
    mine = _part(module)
    assert mine in LAYERS, f"{module}: add its folder to docs/architecture.md and LAYERS"
    for node in _imports(path):
        for target in _targets(node):
            theirs = _part(target)
            if target == "statelab" and isinstance(node, ast.ImportFrom) and all(
                    alias.name == "__version__" for alias in node.names):
                continue  # the version string is a constant, not an arrow
            assert theirs == mine or LAYERS[theirs] < LAYERS[mine], (
                f"{module} (layer {LAYERS[mine]}) imports {target} (layer {LAYERS[theirs]})")


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_no_private_name_crosses_a_module(module: str, path: Path) -> None:
    for node in _imports(path):
        if isinstance(node, ast.ImportFrom) and _targets(node):
            private = [a.name for a in node.names
                       if a.name.startswith("_") and a.name != "__version__"]
            assert not private, f"{module} imports {private} from {node.module}"
