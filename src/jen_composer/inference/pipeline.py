"""`ComposerPipeline`: a trained composer checkpoint + its autoencoder as an `Engine`.

Audio in, audio out: kept stems are encoded to clean latents (t=0), the sampler generates the
requested tracks (absent ones stay at t=T), and the generated latents are decoded per track. A
checkpoint alone is enough: it embeds its resolved config (and thus the autoencoder it decodes with).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig

from jen_composer.core.checkpoints import CHECKPOINT_KEY, read_composer_checkpoint
from jen_composer.core.config import from_container
from jen_composer.core.errors import CheckpointError, DataError
from jen_composer.core.tracks import MIX
from jen_composer.core.weight_storage import unpack
from jen_composer.diffusion.generate import generate as run_generate
from jen_composer.diffusion.request import GenerationRequest
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.longform_audio import generate_long, wanted_tracks
from jen_composer.inference.mix_condition import given_mix
from jen_composer.inference.windows import check_seconds
from jen_composer.models.autoencoder import NormalisedAutoencoder, load_autoencoder
from jen_composer.models.composer import ComposerModel, build_composer
from jen_composer.models.frozen import frozen_prefixes


def composer_from_checkpoint(path: str | Path, use_ema: bool = True) -> tuple[ComposerModel, DictConfig]:
    """Rebuild the `ComposerModel` (EMA weights when present) and its resolved config."""
    ckpt = read_composer_checkpoint(path)
    info = ckpt[CHECKPOINT_KEY]
    cfg = from_container(info["config"], f"{path} (embedded config)")
    model = build_composer(cfg.composer, len(cfg.data.tracks), int(info["composer"]["latent_dim"]))
    state = ckpt["state_dict"]
    prefix = "ema.shadow." if use_ema and any(k.startswith("ema.shadow.") for k in state) else "model."
    try:  # the bundled checkpoint stores its parameters smaller (core/weight_storage.py)
        weights = unpack({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.startswith(frozen_prefixes(model))]  # loaded by name/path instead
    if missing or unexpected:
        raise CheckpointError(f"{path}: weights do not match the embedded config (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return model.eval(), cfg


def _autoencoder_path(checkpoint: Path, configured: str) -> str:
    """The configured autoencoder; a relative one that exists beside the checkpoint (a bundle) wins."""
    beside = checkpoint.parent / configured
    if configured and not Path(configured).is_absolute() and beside.is_dir():
        return str(beside)
    return configured


class ComposerPipeline:
    """Satisfies `composition.engine.Engine`."""

    def __init__(self, model: ComposerModel, cfg: DictConfig, autoencoder: NormalisedAutoencoder,
                 checkpoint: str = "") -> None:
        self.model, self.cfg, self.autoencoder = model.eval(), cfg, autoencoder.eval()
        self.schedule = NoiseSchedule.from_config(cfg.composer.diffusion)
        self.tracks = list(cfg.data.tracks)
        self.mix_track = bool(model.condition_tracks)  # takes a mix as ``kept[MIX]`` (composer.mix_track)
        self.model_tracks = self.tracks + [MIX] * int(model.condition_tracks)  # what the network sees
        self.sample_rate = int(autoencoder.sample_rate)
        self.channels = int(autoencoder.channels)
        self.checkpoint = checkpoint
        self.autoencoder_source = ""  # the folder it was loaded from (from_checkpoint)

    @classmethod
    def from_checkpoint(cls, path: str | Path, use_ema: bool = True, autoencoder: str | None = None,
                        same_encoding: bool = False) -> ComposerPipeline:
        """``autoencoder`` replaces the one the checkpoint names; with ``same_encoding`` it must have that
        one's checksum (a re-export with other decoding settings), which must be here to check."""
        model, cfg = composer_from_checkpoint(path, use_ema)
        named = _autoencoder_path(Path(path), str(cfg.composer.autoencoder))
        ae_path = autoencoder or named
        if not ae_path:
            raise CheckpointError(f"{path}: its config has no composer.autoencoder to decode with; pass one explicitly")
        ae = load_autoencoder(ae_path)
        if autoencoder and same_encoding:
            if not named or not Path(named).exists():
                raise CheckpointError(f"{autoencoder}: cannot check that it encodes like the autoencoder {path} was "
                                      f"trained with ({named or 'none named'} is not on this machine)")
            trained = load_autoencoder(named).checksum()
            if ae.checksum() != trained:
                raise CheckpointError(f"{autoencoder}: checksum {ae.checksum()} differs from {trained} of {named}, "
                                      f"the autoencoder {path} was trained with")
        if int(ae.latent_dim) != model.latent_dim:
            raise CheckpointError(f"{ae_path}: latent_dim {ae.latent_dim} does not match the composer's {model.latent_dim}")
        pipe = cls(model, cfg, ae, str(path))
        pipe.autoencoder_source = str(ae_path)
        return pipe

    def frames(self, seconds: float) -> int:
        return math.ceil(round(seconds * self.sample_rate) / int(self.autoencoder.hop))

    def _fit_length(self, name: str, audio: np.ndarray, samples: int) -> torch.Tensor:
        wave = torch.as_tensor(np.asarray(audio, dtype=np.float32))
        if wave.dim() == 1:
            wave = wave[None]
        if wave.dim() != 2 or wave.shape[0] != self.channels:
            raise DataError(f"kept track '{name}': expected [{self.channels}, S] audio, got {tuple(wave.shape)}")
        if wave.shape[1] < samples:
            wave = torch.nn.functional.pad(wave, (0, samples - wave.shape[1]))
        return wave[:, :samples]

    def track_parts(self, kept: dict[str, np.ndarray], generate: list[str], reimagine: dict[str, float] | None,
                    region: tuple[str, float, float] | None, seconds: float,
                    frames: int) -> tuple[list[str], torch.Tensor | None, torch.Tensor | None]:
        """Per model track (the stems, then the mix when the model takes it): the role, the re-imagine
        strength ``[k]`` and the region's known mask ``[k, frames]``."""
        tracks = self.model_tracks
        unknown = sorted((set(kept) | set(generate)) - set(tracks) - {MIX})
        if unknown:
            raise DataError(f"unknown track(s) {unknown}; this checkpoint has {self.tracks}")
        k = len(tracks)
        roles = ["generate" if n in generate else "keep" if n in kept else "absent" for n in tracks]
        strengths = None
        if reimagine:
            strengths = torch.zeros(k)
            for name, s in reimagine.items():
                if name not in kept:
                    raise DataError(f"re-imagine '{name}': only a kept track can be re-imagined")
                strengths[self.tracks.index(name)] = float(s)
        mask = None
        if region is not None:
            name, start, end = region
            if name not in kept:
                raise DataError(f"region of '{name}': the track must be kept (it is the known content around the region)")
            hop_s = int(self.autoencoder.hop) / self.sample_rate
            mask = torch.ones(k, frames, dtype=torch.bool)
            lo, hi = max(0, math.floor(start / hop_s)), min(frames, math.ceil(end / hop_s))
            if hi <= lo:
                raise DataError(f"region of '{name}': {start:.2f}-{end:.2f} s is empty or outside the {seconds:.2f} s take")
            mask[self.tracks.index(name), lo:hi] = False
        return roles, strengths, mask

    @torch.no_grad()
    def generate_latents(self, prompt: str, kept: dict[str, np.ndarray], generate: list[str], *, seconds: float,
                         seed: int, settings: SamplerSettings, reimagine: dict[str, float] | None = None, region: tuple[str, float, float] | None = None,
                         progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
        """The sampler's `[k, d, L]` latents of one window (generated, re-imagined and region tracks are fresh)."""
        samples, frames = round(seconds * self.sample_rate), self.frames(seconds)
        kept = given_mix(kept, generate, self.tracks, self.mix_track, self.sample_rate, self.channels, samples,
                         float(self.cfg.data.length_tolerance_seconds))
        roles, strengths, mask = self.track_parts(kept, generate, reimagine, region, seconds, frames)
        tracks = self.model_tracks
        known = torch.zeros(1, len(tracks), self.model.latent_dim, frames)
        for i, name in enumerate(tracks):
            if roles[i] == "keep":
                known[0, i] = self.autoencoder.encode(self._fit_length(name, kept[name], samples)[None])[0][:, :frames]
        request = GenerationRequest(prompts=[prompt], roles=roles, settings=settings, seed=int(seed), known=known,
                                    reimagine=None if strengths is None else strengths[None],
                                    known_mask=None if mask is None else mask[None], length=frames)
        return run_generate(self.model, self.schedule, request, tracks, progress=progress)[0]

    @torch.no_grad()
    def generate(self, prompt: str, kept: dict[str, np.ndarray], generate: list[str], *, seconds: float, seed: int,
                 settings: SamplerSettings, reimagine: dict[str, float] | None = None,
                 region: tuple[str, float, float] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
        """Generated (and re-imagined / region) tracks as float32 `[C, S]`, S = round(seconds * sr).

        A length beyond ``composition.longform.window_seconds`` is generated as windows
        (``inference.longform_audio``); one above ``composition.max_seconds`` is refused."""
        seconds = check_seconds(seconds, self.cfg.composition.max_seconds)
        kept = given_mix(kept, generate, self.tracks, self.mix_track, self.sample_rate, self.channels,
                         round(seconds * self.sample_rate), float(self.cfg.data.length_tolerance_seconds))
        if self.frames(seconds) > self.frames(self.cfg.composition.longform.window_seconds):
            return generate_long(self, prompt, kept, generate, seconds=seconds, seed=seed, settings=settings,
                                 reimagine=reimagine, region=region, progress=progress)
        latents = self.generate_latents(prompt, kept, generate, seconds=seconds, seed=seed, settings=settings,
                                        reimagine=reimagine, region=region, progress=progress)
        samples = round(seconds * self.sample_rate)
        out: dict[str, np.ndarray] = {}
        for name in wanted_tracks(generate, reimagine, region):
            wave = self.autoencoder.decode(latents[self.tracks.index(name)][None], length=samples)[0]
            out[name] = wave[:, :samples].float().numpy().astype(np.float32)
        return out

