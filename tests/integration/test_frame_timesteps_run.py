"""``composer.frame_timesteps=true`` end to end on the tiny world: a 3-step run trains with frame masks,
logs their realised share and the frame-mask validation losses; its checkpoint round-trips as a
frame-level model whose region edit keeps the known latent frames bit-exact; a checkpoint saved
before the option existed still loads as a per-track model."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from jen_composer.core.checkpoints import CHECKPOINT_KEY
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.pipeline import ComposerPipeline, composer_from_checkpoint

SETTINGS = SamplerSettings(name="ddim", steps=2, text_guidance=1.0, stem_guidance=1.0)


@pytest.fixture(scope="module")
def frame_run(tiny_songs: Path, tiny_latents: Path, tiny_autoencoder: Path, tmp_path_factory: pytest.TempPathFactory):
    from tests.helpers import three_step_composer_run

    return three_step_composer_run(tiny_songs, tiny_latents, tiny_autoencoder, tmp_path_factory.mktemp("frameruns"),
                                   "composer.frame_timesteps=true", "curriculum.frame_mask_share=0.5")


def test_frame_run_logs_its_frame_mask_share_and_losses(frame_run) -> None:
    _, result = frame_run
    rows = list(csv.DictReader(open(result.run_dir / "logs" / "metrics.csv")))
    for name in ("tasks/frame_masked_step", "tasks/frame_known_step", "val/loss_continue", "val/loss_inpaint"):
        assert name in rows[0], name
    shares = [float(r["tasks/frame_masked_step"]) for r in rows if r.get("tasks/frame_masked_step")]
    assert len(shares) == 3 and all(0.0 <= s <= 1.0 for s in shares)
    losses = [float(r["val/loss_inpaint"]) for r in rows if r.get("val/loss_inpaint")]
    assert losses and all(np.isfinite(losses))


def test_frame_checkpoint_region_edit_keeps_known_frames(frame_run) -> None:
    _, result = frame_run
    pipe = ComposerPipeline.from_checkpoint(result.last_checkpoint)
    assert pipe.model.frame_timesteps
    levels: list[torch.Tensor] = []
    inner = pipe.model.denoise

    def denoise(x_t, t, tokens, mask):  # noqa: ANN001, ANN202
        levels.append(t)
        return inner(x_t, t, tokens, mask)

    pipe.model.denoise = denoise  # type: ignore[method-assign]
    drums = (np.random.default_rng(0).standard_normal((1, 16000)) * 0.1).astype(np.float32)
    known = pipe.autoencoder.encode(torch.as_tensor(drums)[None])[0]
    latents = pipe.generate_latents("funk", {"drums": drums}, [], seconds=1.0, seed=2, settings=SETTINGS,
                                    region=("drums", 0.25, 0.5))
    frames = latents.shape[-1]
    outside = torch.ones(frames, dtype=torch.bool)
    outside[levels[0][0, 1] > 0] = False  # the region's frames (asked above t=0)
    assert levels and all(t.dim() == 3 for t in levels) and 0 < int((~outside).sum()) < frames
    drums_i = pipe.tracks.index("drums")
    assert torch.equal(latents[drums_i][:, outside], known[:, :frames][:, outside])
    assert not torch.equal(latents[drums_i][:, ~outside], known[:, :frames][:, ~outside])


def test_checkpoints_from_before_the_option_load_per_track(tiny_composer_run, tmp_path: Path) -> None:
    _, result = tiny_composer_run
    ckpt = torch.load(result.last_checkpoint, map_location="cpu", weights_only=True)
    info = ckpt[CHECKPOINT_KEY]
    info["config"]["composer"].pop("frame_timesteps")
    info["config"]["curriculum"].pop("frame_mask_share")
    info["composer"].pop("frame_timesteps", None)
    torch.save(ckpt, tmp_path / "old.ckpt")
    model, cfg = composer_from_checkpoint(tmp_path / "old.ckpt")
    assert not model.frame_timesteps and not bool(cfg.composer.frame_timesteps)


def test_region_edit_bench_runs_on_a_frame_level_checkpoint(frame_run) -> None:
    from benchmarks.region_edit import run_benchmarks

    _, result = frame_run
    rows = run_benchmarks(quick=True, ckpt=str(result.last_checkpoint))
    assert [r.benchmark for r in rows] == ["region edit: inpaint middle third, edge jump ratio",
                                           "region edit: continue last third, edge jump ratio"]
    assert all(np.isfinite(r.value) and r.value > 0 and "exact (frame levels)" in r.config for r in rows)


def test_bench_clips_goes_with_region_edit_only(capsys) -> None:  # type: ignore[no-untyped-def]
    from jen_composer.cli.main import main

    for args in (["--only", "demo", "--clips", "3"], ["--only", "region_edit", "--clips", "0"]):
        assert main(["bench", *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--clips" in err[0] and "region_edit" in err[0]
