"""`jen-composer calibrate`: a time grid fitted to one checkpoint and one task (``diffusion.calibration``).

The task's inputs are real: the first ``clips`` held-out songs of a rendered dataset, their captions
as prompts and their gain-scaled kept stems encoded once. Each trial samples every clip from the
same seeded noise (float32 on this machine, the network as it will run), and the grid's free points
move until the few-call latents of the generated tracks match a many-call reference. The result is
the `composer.sampler.logsnr_points` (and `steps`) override that `compose`, `studio` and `evaluate`
accept; it is as good as the task it was fitted on, so fit one per task you use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from jen_composer.core.errors import DataError
from jen_composer.core.io import atomic_write_json
from jen_composer.data.index import list_song_dirs
from jen_composer.data.splits import resolve_splits
from jen_composer.diffusion.calibration import calibrate, relative_distance
from jen_composer.diffusion.generate import generate as run_generate
from jen_composer.diffusion.request import GenerationRequest
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.pipeline import ComposerPipeline
from jen_composer.workflows.demo_samples import song_meta, song_stems


def _held_out(data_root: Path, cfg: Any, clips: int) -> list[str]:
    songs = [d.name for d in list_song_dirs(data_root)]
    test = sorted(resolve_splits(data_root, songs, int(cfg.data.split_seed), float(cfg.data.test_fraction),
                                 float(cfg.data.val_fraction))["test"])
    if not test:
        raise DataError(f"{data_root}: no test songs to calibrate on")
    return test[:clips]


def task_runner(pipe: ComposerPipeline, data_root: Path, songs: list[str], generate: Sequence[str],
                keep: Sequence[str], seconds: float, seed: int) -> Callable[[SamplerSettings], torch.Tensor]:
    """settings -> the generated tracks' latents ``[songs, n]`` of the task on ``songs`` (kept stems
    encoded once, the same seeded noise every time)."""
    frames, samples = pipe.frames(seconds), round(seconds * pipe.sample_rate)
    tracks = pipe.model_tracks
    roles = ["generate" if t in generate else "keep" if t in keep else "absent" for t in tracks]
    known = torch.zeros(len(songs), len(tracks), pipe.model.latent_dim, frames)
    with torch.no_grad():
        for b, song in enumerate(songs):
            for i, name in enumerate(tracks):
                if roles[i] == "keep":
                    wave = pipe._fit_length(name, song_stems(data_root, song, [name], samples, pipe.sample_rate)[name], samples)
                    known[b, i] = pipe.autoencoder.encode(wave[None])[0][:, :frames]
    prompts = [str(song_meta(data_root, s)["caption"]) for s in songs]
    made = [i for i, r in enumerate(roles) if r == "generate"]

    def run(settings: SamplerSettings) -> torch.Tensor:
        request = GenerationRequest(prompts=prompts, roles=roles, settings=settings, seed=seed, known=known.clone(),
                                    length=frames)
        with torch.no_grad():
            return run_generate(pipe.model, pipe.schedule, request, pipe.tracks)[:, made].flatten(1).double()

    return run


def calibrate_checkpoint(ckpt: str, data_root: Path, generate: Sequence[str], keep: Sequence[str], steps: int,
                         clips: int = 8, seconds: float = 4.096, reference_steps: int = 100,
                         max_evaluations: int = 200, seed: int = 0, out: Path | None = None,
                         check_clips: int = 0) -> dict[str, Any]:
    """Fit ``steps - 1`` grid points for generating ``generate`` given ``keep``; returns (and writes) the result.

    ``check_clips``: then the distance to the reference on that many other held-out songs, for the
    calibrated grid, the even grid at the same calls and the checkpoint's own sampler settings."""
    pipe = ComposerPipeline.from_checkpoint(ckpt)
    unknown = sorted((set(generate) | set(keep)) - set(pipe.tracks))
    if unknown or not generate or set(generate) & set(keep):
        raise DataError(f"calibrate: --generate {list(generate)} and --keep {list(keep)} must be disjoint tracks of "
                        f"{pipe.tracks} (and something to generate)")
    held_out = _held_out(data_root, pipe.cfg, clips + check_clips)
    songs, others = held_out[:clips], held_out[clips:]
    if check_clips and not others:
        raise DataError(f"{data_root}: no held-out songs left for --check-clips after the {len(songs)} calibrated on")
    base = SamplerSettings.from_config(pipe.cfg.composer.sampler).replace(steps=steps, logsnr_points=())
    started = time.perf_counter()
    found = calibrate(task_runner(pipe, data_root, songs, generate, keep, seconds, seed), base, reference_steps,
                      max_evaluations)
    points = [round(p, 4) for p in found.points]
    result: dict[str, Any] = {
        "checkpoint": str(ckpt), "sampler": base.name, "steps": steps, "generate": list(generate), "keep": list(keep),
        "songs": songs, "seconds": seconds, "reference_steps": reference_steps, "seed": seed,
        "logsnr_points": points, "error": found.error, "even_grid_error": found.start_error,
        "evaluations": found.evaluations, "wall_seconds": round(time.perf_counter() - started, 1),
        "override": f"composer.sampler.steps={steps} composer.sampler.logsnr_points=[{','.join(f'{p:g}' for p in points)}]",
    }
    if others:
        run = task_runner(pipe, data_root, others, generate, keep, seconds, seed + 1)
        reference = run(base.replace(steps=reference_steps))
        configured = SamplerSettings.from_config(pipe.cfg.composer.sampler)
        result["check"] = {
            "songs": others,
            "calibrated": relative_distance(run(base.replace(logsnr_points=tuple(points))), reference),
            "even_grid": relative_distance(run(base), reference),
            f"configured ({configured.name}, {configured.steps} calls, {configured.time_grid} grid)":
                relative_distance(run(configured), reference),
        }
    if out is not None:
        atomic_write_json(out, result)
    return result
