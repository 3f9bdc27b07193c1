"""The lent-GPU drivers in scripts/gpu parse, and name only recipes, benchmark rows and tests that exist.

Why: a GPU call is rare and short (minutes); a typo found there costs the whole call.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "scripts" / "gpu").glob("*.sh"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_parses_and_its_paths_exist(script: Path) -> None:
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    text = script.read_text()
    for path in re.findall(r"(?:experiments|tests|scripts)/[\w/.-]+\.(?:yaml|py|sh)", text):
        assert (ROOT / path).is_file(), f"{script.name} names {path}, which does not exist"


def test_benchmark_rows_named_by_the_scripts_exist() -> None:
    from benchmarks.gpu_throughput import ROWS

    for script in SCRIPTS:
        text = script.read_text()
        for rows in re.findall(r"--rows ([\w,-]+)", text) + re.findall(r"ROWS=\$\{ROWS:-([\w,-]+)\}", text) \
                + re.findall(r"ROWS=([\w,-]+) ", text):
            assert set(rows.split(",")) <= set(ROWS), f"{script.name}: --rows {rows}"


def test_the_autoencoder_driver_refuses_an_unknown_variant_before_anything_runs(tmp_path: Path) -> None:
    """VARIANTS names trainings of scripts/gpu/bundle_autoencoders.sh; a typo must stop it at once, not after setup."""
    script = (ROOT / "scripts" / "gpu" / "bundle_autoencoders.sh").read_text()
    names = set(re.findall(r"\[(\w+)\]=", script))
    assert {"repro", "small", "small1", "mid", "mid1"} <= names
    for variants in re.findall(r'VARIANTS="([\w ]+)"', script) + re.findall(r"VARIANTS=\$\{VARIANTS:-([\w ]+)\}", script):
        assert set(variants.split()) <= names, variants
    assert script.index("exit 2; }; done") < script.index("source scripts/gpu/setup.sh")  # checked before the setup
    check = script[script.index("declare -A VAR"):script.index("exit 2; }; done") + len("exit 2; }; done")]
    run = subprocess.run(["bash", "-c", check], env={"VARIANTS": "repro mdi", "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2 and "unknown variant mdi" in run.stderr
