"""The composer trains end to end on the tiny world; its checkpoint alone rebuilds a working pipeline."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from jen_composer.core.errors import CheckpointError
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.pipeline import ComposerPipeline, read_composer_checkpoint


@pytest.fixture(scope="module")
def trained(tiny_composer_run):
    return tiny_composer_run


def test_fit_writes_run_files_checkpoint_and_previews(trained) -> None:
    cfg, result = trained
    assert (result.run_dir / "config.yaml").is_file() and (result.run_dir / "run.json").is_file()
    ckpt = read_composer_checkpoint(result.last_checkpoint)
    assert ckpt["global_step"] == 4
    assert ckpt["jen_composer"]["config"]["composer"]["autoencoder"] == cfg.composer.autoencoder
    assert any(k.startswith("ema.shadow.") for k in ckpt["state_dict"])
    previews = sorted((result.run_dir / "previews").rglob("mix.wav"))
    assert previews, "no preview audio written"
    names = {p.parent.name for p in previews}
    assert any("joint" in n for n in names) and any("given_" in n for n in names)
    assert list((result.run_dir / "previews").rglob("spectrogram.png"))


def test_validation_loss_per_task_mode_and_curriculum_logged(trained) -> None:
    _, result = trained
    rows = list(csv.DictReader(open(result.run_dir / "logs" / "metrics.csv")))
    columns = set(rows[0])
    for name in ("val/loss_marginal", "val/loss_conditional_keep1", "val/loss_conditional_keep3", "val/loss_joint"):
        assert name in columns
    stage = [float(r["curriculum/stage1"]) for r in rows if r.get("curriculum/stage1")]
    assert len(stage) >= 3  # logged every step
    steps = [r for r in rows if r.get("tasks/generated_step")]  # what was really sampled, per step
    assert steps
    for r in steps:
        shares = sum(float(v) for k, v in r.items() if k.startswith("tasks/share_") and k.endswith("_step") and v)
        counts = sum(float(r[f"tasks/{role}_step"]) for role in ("generated", "kept", "absent"))
        assert shares == pytest.approx(1.0) and counts == pytest.approx(4.0)  # k = 4 tracks per sample
        assert 1.0 <= float(r["tasks/generated_step"]) <= 4.0


def test_pipeline_from_checkpoint_generates_aligned_stems(trained) -> None:
    _, result = trained
    pipe = ComposerPipeline.from_checkpoint(result.last_checkpoint)
    drums = np.random.default_rng(0).standard_normal((1, 16000)).astype(np.float32) * 0.1
    out = pipe.generate("funk with slap bass", {"drums": drums}, ["bass", "melody"], seconds=1.0, seed=3,
                        settings=SamplerSettings(name="ddim", steps=3, text_guidance=2.0, stem_guidance=1.0))
    assert sorted(out) == ["bass", "melody"]
    assert all(v.shape == (1, 16000) and v.dtype == np.float32 and np.isfinite(v).all() for v in out.values())
    again = pipe.generate("funk with slap bass", {"drums": drums}, ["bass", "melody"], seconds=1.0, seed=3,
                          settings=SamplerSettings(name="ddim", steps=3, text_guidance=2.0, stem_guidance=1.0))
    assert all(np.array_equal(out[k], again[k]) for k in out)  # seeded: reproducible


def test_pipeline_keeps_condition_latents_exact(trained) -> None:
    _, result = trained
    pipe = ComposerPipeline.from_checkpoint(result.last_checkpoint)
    bass = np.sin(np.linspace(0, 200, 16000, dtype=np.float32))[None] * 0.3
    z = pipe.generate_latents("pop", {"bass": bass}, ["drums"], seconds=1.0, seed=0,
                              settings=SamplerSettings(name="ddim", steps=2, text_guidance=1.0, stem_guidance=1.0))
    expected = pipe.autoencoder.encode(torch.from_numpy(bass)[None])[0][:, : z.shape[-1]]
    assert torch.equal(z[pipe.tracks.index("bass")], expected)
    assert torch.count_nonzero(z[pipe.tracks.index("melody")]) == 0  # absent tracks come back empty


def test_corrupt_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.ckpt"):
        ComposerPipeline.from_checkpoint(bad)
