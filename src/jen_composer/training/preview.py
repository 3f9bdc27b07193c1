"""`SamplePreviewCallback`: every N steps, on rank zero, with EMA weights, fixed seeds and prompts.

Generates a joint sample (all tracks from the prompt) and a conditional one (the first validation
snippet's rhythm section kept, the other tracks generated) at every configured CFG scale; writes
each stem, the mix and a spectrogram into `<run>/previews/step<N>/` and sends them to W&B or
TensorBoard when such a logger is attached (never needs W&B).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import soundfile as sf
import torch
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig
from PIL import Image

from jen_composer.data.audio import SAFE_PEAK
from jen_composer.data.mix import mix_stems
from jen_composer.data.spectrogram import spectrogram_figure
from jen_composer.diffusion.generate import generate
from jen_composer.diffusion.request import GenerationRequest
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.training.media import log_audio, log_image

CONDITION_TRACKS = ("drums", "bass")  # kept in the conditional preview when present


def preview_scenarios(tracks: list[str]) -> dict[str, list[str]]:
    """Scenario name -> roles per track: joint, and conditional on the rhythm section."""
    scenarios = {"joint": ["generate"] * len(tracks)}
    kept = [t for t in tracks if t in CONDITION_TRACKS] or tracks[:1]
    if len(kept) < len(tracks):
        gen = [t for t in tracks if t not in kept]
        scenarios[f"given_{'+'.join(kept)}_generate_{'+'.join(gen)}"] = ["keep" if t in kept else "generate" for t in tracks]
    return scenarios


class SamplePreviewCallback(pl.Callback):
    def __init__(self, cfg: DictConfig) -> None:
        self.cfg = cfg
        self.every = int(cfg.logger.preview.every_n_steps)
        self._known: torch.Tensor | None = None
        self._decoder: Any = None
        self.written: list[Path] = []

    def _reference(self, trainer: pl.Trainer, module: pl.LightningModule) -> torch.Tensor:
        """Latents of the first validation snippet (fixed across the run): the kept stems."""
        if self._known is None:
            batch = next(iter(trainer.datamodule.val_dataloader()))
            self._known = module._latents({k: v.to(module.device) if torch.is_tensor(v) else v for k, v in batch.items()})[:1]
        return self._known

    def _decode(self, latents: torch.Tensor) -> torch.Tensor | None:
        """[k, d, L] -> [k, C, S] with the composer's autoencoder (None when none is configured)."""
        if not self.cfg.composer.autoencoder:
            return None
        if self._decoder is None:
            from jen_composer.models.autoencoder import load_autoencoder

            self._decoder = load_autoencoder(self.cfg.composer.autoencoder).eval()
        with torch.no_grad():
            return self._decoder.decode(latents.cpu().float())

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        step = trainer.global_step
        if self.every > 0 and step > 0 and step % self.every == 0:
            self.run(trainer, pl_module, step)

    @rank_zero_only
    def run(self, trainer: pl.Trainer, module: pl.LightningModule, step: int) -> Path:
        p = self.cfg.logger.preview
        folder = Path(trainer.default_root_dir) / "previews" / f"step{step:07d}"
        known = self._reference(trainer, module)
        tracks = list(module.tracks)
        model = module.eval_model()
        rich_loggers = [lg for lg in trainer.loggers if isinstance(lg, WandbLogger | TensorBoardLogger)]
        for prompt_index, prompt in enumerate(p.prompts):
            for name, roles in preview_scenarios(tracks).items():
                for scale in p.cfg_scales:
                    settings = SamplerSettings.from_config(self.cfg.composer.sampler).replace(
                        steps=p.steps, text_guidance=scale)
                    roles_all = roles + ["absent"] * module.extra  # the mix (composer.mix_track) stays absent
                    request = GenerationRequest([prompt], roles_all, settings, seed=int(p.seed) + prompt_index, known=known)
                    latents = generate(model, module.schedule, request, module.model_tracks)[0][:len(tracks)]
                    out = folder / f"prompt{prompt_index}_{name}_cfg{scale:g}"
                    self._write(out, tracks, roles, latents, trainer, step, rich_loggers)
        self.written.append(folder)
        return folder

    def _write(self, out: Path, tracks: list[str], roles: list[str], latents: torch.Tensor, trainer: pl.Trainer,
               step: int, rich_loggers: list[Any]) -> None:
        out.mkdir(parents=True, exist_ok=True)
        audio = self._decode(latents)
        if audio is None:  # no decoder: show the latents themselves
            img = latents.reshape(-1, latents.shape[-1]).float().cpu().numpy()
            img = ((img - img.min()) / (np.ptp(img) + 1e-8) * 255).astype(np.uint8)
            Image.fromarray(img).save(out / "latents.png")
            return
        sr = int(self.cfg.data.sample_rate)
        for track, role, wave in zip(tracks, roles, audio, strict=True):
            sf.write(out / f"{track}{'_kept' if role == 'keep' else ''}.wav", wave.T.numpy(), sr, subtype="FLOAT")
        mix = mix_stems(audio, peak_limit=SAFE_PEAK)
        sf.write(out / "mix.wav", mix.T.numpy(), sr)
        marks = {t: "kept" if r == "keep" else "generated" for t, r in zip(tracks, roles, strict=True)}
        image = spectrogram_figure({**dict(zip(tracks, audio, strict=True)), "mix": mix}, sr, marks, f"step {step}: {out.name}")
        Image.fromarray(image).save(out / "spectrogram.png")
        if rich_loggers:
            key = f"preview/{out.name}"
            log_audio(trainer, f"{key}/mix", mix, sr, step)
            log_image(trainer, f"{key}/spectrogram", image, step)
