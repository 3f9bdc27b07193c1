"""Encode/decode speed of the waveform VAE (seconds of audio per second) for the tiny and paper configs."""

from __future__ import annotations

from pathlib import Path

import torch
import yaml

from benchmarks.common import BenchRow, time_call
from jen_composer.core.config import compose
from jen_composer.core.config.loader import merge_checked
from jen_composer.models.autoencoder.model import WaveformVAE

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "autoencoder"


def _model(name: str) -> WaveformVAE:
    """A random-weight model of ``configs/autoencoder/<name>.yaml`` (speed does not depend on weights)."""
    path = CONFIGS / f"{name}.yaml"
    cfg = merge_checked(compose(None, []), {"autoencoder": yaml.safe_load(path.read_text())}, str(path))
    torch.manual_seed(0)
    return WaveformVAE(cfg.autoencoder).eval()


@torch.no_grad()
def run_benchmarks(quick: bool) -> list[BenchRow]:
    rows = []
    seconds = 1.0 if quick else 4.0
    for name in ("tiny", "paper"):
        model = _model(name)
        wave = 0.1 * torch.randn(1, model.channels, int(seconds * model.sample_rate))
        z = model.encode(wave)
        desc = f"{name}, {model.sample_rate // 1000} kHz x{model.channels}, hop {model.hop}, d {model.latent_dim}, {seconds:g} s, CPU"
        repeats = 1 if quick else 3
        t_enc = time_call(lambda m=model, w=wave: m.encode(w), repeats=repeats)
        t_dec = time_call(lambda m=model, z=z: m.decode(z), repeats=repeats)
        rows.append(BenchRow("autoencoder: encode", desc, seconds / t_enc, "audio s/s"))
        rows.append(BenchRow("autoencoder: decode", desc, seconds / t_dec, "audio s/s"))
    return rows
