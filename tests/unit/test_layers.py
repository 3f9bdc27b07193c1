"""The package is layered; a module may import only its own layer or the layers before it.

On top of the order, three rules keep the math and inference independent of training:
`inference` and `composition` never import `training`, `diffusion` imports only `core`, and no
library module imports the test doubles in `tests/` (or the checkout-only `benchmarks/`).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "jen_composer"
ORDER = ["core", "data", "models", "diffusion", "metrics", "training", "inference", "composition", "workflows",
         "studio", "cli"]
# layer -> layers it may not import even though they come earlier in ORDER
FORBIDDEN = {
    "inference": {"training"},
    "composition": {"training"},
    "diffusion": {"data", "models"},
}
OUTSIDE = ("tests", "benchmarks")  # top-level packages of the checkout that the library never imports
CHECKOUT_DOORS = {"cli/bench_cmd": "benchmarks"}  # `jen-composer bench` imports benchmarks/ from a checkout


def _layer(parts: tuple[str, ...]) -> str:
    return "core" if parts[0] == "__init__" else parts[0]


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def layering_problems(package: Path) -> list[str]:
    problems = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).with_suffix("").parts
        own = _layer(rel)
        if own not in ORDER:
            problems.append(f"{path}: folder '{own}' is not a known layer; add it to ORDER and docs/architecture.md")
            continue
        for name in _imports(path):
            top = name.split(".")[0]
            if top in OUTSIDE and CHECKOUT_DOORS.get("/".join(rel)) != top:
                problems.append(f"{'/'.join(rel)} ({own}) imports {name} (not part of the library)")
            if name == "jen_composer" or not name.startswith("jen_composer."):
                continue
            target = _layer(tuple(name.split(".")[1:]))
            if target not in ORDER:
                problems.append(f"{'/'.join(rel)} ({own}) imports {name}: unknown layer '{target}'")
            elif ORDER.index(target) > ORDER.index(own) or target in FORBIDDEN.get(own, set()):
                problems.append(f"{'/'.join(rel)} ({own}) imports {name} ({target})")
    return problems


def test_imports_follow_layer_order() -> None:
    problems = layering_problems(PACKAGE)
    assert not problems, "layering violations:\n" + "\n".join(problems)


def test_the_rules_catch_violations(tmp_path: Path) -> None:
    """The checker itself flags each kind of violation (so a passing layer test means something)."""
    bad = {
        "inference/x.py": "from jen_composer.training.fit import fit\n",
        "composition/y.py": "import jen_composer.training.ema\n",
        "diffusion/z.py": "from jen_composer.models.composer import ComposerModel\n",
        "core/w.py": "from jen_composer.data.audio import load_audio\n",
        "metrics/v.py": "from tests.fakes import FakeEngine\n",
        "cli/u.py": "from benchmarks import data\n",
        "stuff/t.py": "x = 1\n",
    }
    for rel, text in bad.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "diffusion" / "ok.py").write_text("from jen_composer.core.seed import make_generator\n")
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "ok.py").write_text("from jen_composer.training.fit import fit\n")
    found = "\n".join(layering_problems(tmp_path))
    for rel in bad:
        assert rel.split("/")[0] in found, rel
    assert "ok.py" not in found
