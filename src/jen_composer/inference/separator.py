"""A composer checkpoint's separation mode as a separator: all stems generated from a given mix.

Used by `evaluate-separation` (scored against the true stems) and by `evaluate-audio`
(``evaluation.separator`` = a checkpoint path: mixes from other systems split by our model instead of
Demucs). Only a composer trained with ``composer.mix_track`` separates; another is refused in one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from jen_composer.core.errors import CheckpointError
from jen_composer.core.tracks import MIX
from jen_composer.data.audio import resample
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.mix_condition import NO_MIX_TRACK


def is_checkpoint_separator(name: str) -> bool:
    """``evaluation.separator`` names a checkpoint (a ``.ckpt`` file) rather than a Demucs model."""
    return str(name).endswith(".ckpt")


class CheckpointSeparator:
    """``separate(mix [S], sample_rate, tracks, prompt) -> {track: [S]}`` mono float32 at ``sample_rate``."""

    def __init__(self, ckpt: str | Path, settings: SamplerSettings | None = None, seed: int = 0) -> None:
        from jen_composer.inference.pipeline import ComposerPipeline

        self.pipeline = ComposerPipeline.from_checkpoint(ckpt)
        if not self.pipeline.mix_track:
            raise CheckpointError(f"{ckpt}: {NO_MIX_TRACK}")
        self.settings = settings or SamplerSettings.from_config(self.pipeline.cfg.composer.sampler)
        self.seed = int(seed)
        self.name = f"checkpoint {ckpt} (separation mode: every stem generated from the mix)"

    def _to_model(self, mono: np.ndarray, sample_rate: int) -> np.ndarray:
        """Mono audio at ``sample_rate`` -> ``[C, S]`` at the model's rate and channels."""
        pipe = self.pipeline
        wave = resample(np.asarray(mono, dtype=np.float32).reshape(1, -1), int(sample_rate), pipe.sample_rate)
        return np.repeat(wave, pipe.channels, axis=0) if pipe.channels > 1 else wave

    def _from_model(self, wave: np.ndarray, sample_rate: int, n: int) -> np.ndarray:
        """``[C, S]`` at the model's rate -> mono float32 at ``sample_rate``, exactly ``n`` samples."""
        mono = resample(wave.mean(axis=0, keepdims=True), self.pipeline.sample_rate, int(sample_rate))[0]
        return np.pad(mono, (0, max(0, n - len(mono))))[:n].astype(np.float32)

    def separate(self, mix: np.ndarray, sample_rate: int, tracks: Sequence[str], prompt: str = "") -> dict[str, np.ndarray]:
        pipe = self.pipeline
        missing = sorted(set(tracks) - set(pipe.tracks))
        if missing:
            raise CheckpointError(f"{pipe.checkpoint}: cannot produce track(s) {missing}; it has {pipe.tracks}")
        wave = self._to_model(mix, sample_rate)
        seconds = wave.shape[-1] / pipe.sample_rate
        out = pipe.generate(prompt, {MIX: wave}, list(tracks), seconds=seconds, seed=self.seed, settings=self.settings)
        n = np.asarray(mix).reshape(-1).shape[0]
        return {t: self._from_model(out[t], sample_rate, n) for t in tracks}

    def round_trip(self, stems: dict[str, np.ndarray], sample_rate: int) -> dict[str, np.ndarray]:
        """Each true stem through the checkpoint's autoencoder (encode, decode): the codec's ceiling."""
        ae, out = self.pipeline.autoencoder, {}
        for name, stem in stems.items():
            x = torch.from_numpy(np.ascontiguousarray(self._to_model(stem, sample_rate)))[None]
            with torch.no_grad():
                back = ae.decode(ae.encode(x), length=x.shape[-1])[0].float().numpy()
            out[name] = self._from_model(back, sample_rate, np.asarray(stem).reshape(-1).shape[0])
        return out
