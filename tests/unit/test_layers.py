"""The package is layered; a module may import only its own layer or the layers before it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "jen_composer"
ORDER = ["base", "data", "models", "diffusion", "metrics", "training", "composition", "studio", "cli"]
BASE = {"config", "utils", "errors", "__init__"}


def _layer(parts: list[str]) -> str:
    head = parts[0] if parts else "__init__"
    return "base" if head in BASE else head


def test_imports_follow_layer_order() -> None:
    problems = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("").parts
        own = _layer(list(rel))
        assert own in ORDER, f"{path}: folder '{own}' is not a known layer; add it to ORDER and docs/architecture.md"
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name == "jen_composer" or not name.startswith("jen_composer."):
                    continue
                target = _layer(name.split(".")[1:])
                if ORDER.index(target) > ORDER.index(own):
                    problems.append(f"{path.relative_to(PACKAGE)} ({own}) imports {name} ({target})")
    assert not problems, "layering violations:\n" + "\n".join(problems)
