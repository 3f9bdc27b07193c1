"""Every runnable experiment file composes and trains one fast_dev_run step on the tiny world."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from jen_composer.core.config import compose
from jen_composer.training.fit import fit
from tests.helpers import tiny_autoencoder_overrides, tiny_composer_overrides

ROOT = Path(__file__).resolve().parents[2]
def _is_manifest(path: Path) -> bool:
    return "rows" in (yaml.safe_load(path.read_text()) or {})


YAMLS = sorted(p.relative_to(ROOT) for p in (ROOT / "experiments").rglob("*.yaml") if "sweeps" not in p.parts)
EXPERIMENTS = [p for p in YAMLS if not _is_manifest(ROOT / p)]
MANIFESTS = [p for p in YAMLS if _is_manifest(ROOT / p)]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=[str(p) for p in MANIFESTS])
def test_ablation_manifest_loads_and_every_row_seed_composes(manifest: Path) -> None:
    """Every ablation manifest is valid and each row's config composes with its overrides (at the
    last seed: seeds differ only by ``seed=``)."""
    from jen_composer.workflows.ablation import load_manifest, row_config

    loaded = load_manifest(ROOT / manifest)
    for row in loaded.rows:
        cfg = row_config(loaded, row, loaded.seeds[-1], [], ROOT)
        assert int(cfg.seed) == loaded.seeds[-1] and cfg.logger.job_type == row.label


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=[str(p) for p in EXPERIMENTS])
def test_experiment_fast_dev_run(experiment: Path, tiny_songs: Path, tiny_latents: Path, tiny_autoencoder: Path,
                                 tmp_path: Path) -> None:
    base = compose(ROOT / experiment)
    if base.task == "composer":
        overrides = tiny_composer_overrides(tiny_songs, tiny_latents, tiny_autoencoder, tmp_path)
    else:
        overrides = tiny_autoencoder_overrides(tiny_songs, tmp_path)
    cfg = compose(ROOT / experiment, [*overrides, "trainer.fast_dev_run=true"])
    result = fit(cfg)
    assert result.trainer.global_step == 1
    params = torch.cat([p.detach().flatten() for p in result.module.parameters()])
    assert torch.isfinite(params).all()
    assert (result.run_dir / "config.yaml").is_file()
