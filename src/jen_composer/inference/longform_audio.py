"""A long piece on a ``ComposerPipeline``: audio in, windows through the sampler, audio out.

Kept stems are cut into the windows of ``inference.windows.plan_windows`` and encoded one window
at a time; each window's latents are decoded at once and stitched (``stitch.Stitcher``), so the
model, the encoder and the decoder only ever see one window and memory stays flat in the length.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch

from jen_composer.diffusion.generate import generate as run_generate
from jen_composer.diffusion.request import GenerationRequest
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.longform import sample_windows
from jen_composer.inference.stitch import Stitcher
from jen_composer.inference.windows import Window, check_longform, plan_windows

if TYPE_CHECKING:
    from jen_composer.inference.pipeline import ComposerPipeline


def piece_windows(pipe: ComposerPipeline, seconds: float) -> list[Window]:
    """The windows of a ``seconds`` piece under the pipeline's ``composition.longform``."""
    lf = pipe.cfg.composition.longform
    check_longform(lf)
    return plan_windows(pipe.frames(seconds), pipe.frames(lf.window_seconds), pipe.frames(lf.overlap_seconds))


def wanted_tracks(generate: list[str], reimagine: dict[str, float] | None,
                  region: tuple[str, float, float] | None) -> list[str]:
    """The tracks a request returns: generated, re-imagined and region-edited ones, in that order."""
    return list(dict.fromkeys([*generate, *(reimagine or {}), *([region[0]] if region else [])]))


@torch.no_grad()
def generate_long(pipe: ComposerPipeline, prompt: str, kept: dict[str, np.ndarray], generate: list[str], *,
                  seconds: float, seed: int, settings: SamplerSettings, reimagine: dict[str, float] | None = None,
                  region: tuple[str, float, float] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
    """What ``ComposerPipeline.generate`` returns, for any length: the generated, re-imagined and
    region tracks as float32 ``[C, S]``. Kept tracks are not returned: they stay the caller's."""
    hop, sr = int(pipe.autoencoder.hop), pipe.sample_rate
    samples = round(seconds * sr)
    windows = piece_windows(pipe, seconds)
    roles, strengths, mask = pipe.track_parts(kept, generate, reimagine, region, seconds, pipe.frames(seconds))
    waves = {n: pipe._fit_length(n, kept[n], samples) for n, r in zip(pipe.tracks, roles, strict=True) if r == "keep"}
    wanted = wanted_tracks(generate, reimagine, region)
    fade = round(float(pipe.cfg.composition.longform.crossfade_seconds) * sr)
    joined = {n: Stitcher(pipe.channels, windows[-1].end * hop, fade) for n in wanted}

    def kept_latents(win: Window) -> torch.Tensor:
        known = torch.zeros(len(pipe.tracks), pipe.model.latent_dim, win.length)
        for name, wave in waves.items():
            piece = wave[:, win.start * hop: win.end * hop]
            piece = torch.nn.functional.pad(piece, (0, win.length * hop - piece.shape[-1]))
            known[pipe.tracks.index(name)] = pipe.autoencoder.encode(piece[None])[0][:, :win.length]
        return known

    def decode(win: Window, latents: torch.Tensor, changed: torch.Tensor) -> None:
        for name in wanted:
            wave = pipe.autoencoder.decode(latents[pipe.tracks.index(name)][None], length=win.length * hop)[0]
            joined[name].add(win.start * hop, wave.float().numpy())

    def run(request: GenerationRequest, step: Callable[[int, int], None] | None) -> torch.Tensor:
        return run_generate(pipe.model, pipe.schedule, request, pipe.tracks, progress=step)

    sample_windows(run, windows, prompt, roles, settings, seed, kept_latents, decode, strengths, mask, progress)
    return {n: np.ascontiguousarray(joined[n].out[:, :samples], dtype=np.float32) for n in wanted}
