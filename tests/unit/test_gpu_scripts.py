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
        for rows in re.findall(r"--rows ([\w,-]+)", script.read_text()):
            assert set(rows.split(",")) <= set(ROWS), f"{script.name}: --rows {rows}"
