"""The one spectrogram picture of the project: W&B/TensorBoard previews, sample folders, the demo page.

One row per track (named, marked kept or generated), a shared time axis in seconds and a
frequency axis in kHz, so a picture read on its own says what it shows.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

ROLE_COLOURS = {"kept": "#1b7f3b", "generated": "#b5480b"}  # other rows (mix, target) stay black
DB_FLOOR, DB_CEIL = -80.0, 20.0


def _log_magnitude(wave: torch.Tensor | np.ndarray, n_fft: int) -> np.ndarray:
    """Mono-mixed [C, S] or [S] -> dB magnitude [freq, frames] clamped to [DB_FLOOR, DB_CEIL]."""
    x = torch.as_tensor(np.asarray(wave, np.float32)) if not isinstance(wave, torch.Tensor) else wave
    mono = x.detach().float().cpu().reshape(-1, x.shape[-1]).mean(0)
    if mono.numel() < n_fft:
        mono = torch.nn.functional.pad(mono, (0, n_fft - mono.numel()))
    spec = torch.stft(mono, n_fft, n_fft // 4, window=torch.hann_window(n_fft), return_complex=True).abs()
    return (20 * torch.log10(spec + 1e-5)).clamp(DB_FLOOR, DB_CEIL).numpy()


def spectrogram_figure(tracks: Mapping[str, torch.Tensor | np.ndarray], sample_rate: int,
                       roles: Mapping[str, str] | None = None, title: str = "", n_fft: int = 512) -> np.ndarray:
    """Labelled log-magnitude spectrograms of ``tracks`` (name -> [C, S] or [S]) as an RGB uint8 image.

    ``roles`` marks rows, e.g. {"drums": "kept", "melody": "generated"}: the role is written under
    the name and colours the label and frame; rows without a role (the mix) are plain.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(tracks)
    fig = Figure(figsize=(9, 0.4 + 1.25 * len(names)), dpi=80)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=True):
        db = _log_magnitude(tracks[name], n_fft)
        seconds = np.shape(tracks[name])[-1] / sample_rate  # no host copy: a tensor may live on the GPU
        ax.imshow(db, origin="lower", aspect="auto", cmap="magma", vmin=DB_FLOOR, vmax=DB_CEIL,
                  extent=(0.0, seconds, 0.0, sample_rate / 2000))
        role = (roles or {}).get(name, "")
        label, colour = (f"{name}\n({role})", ROLE_COLOURS.get(role, "black")) if role else (name, "black")
        ax.set_ylabel(label, color=colour, rotation=0, ha="right", va="center", fontsize=9, fontweight="bold")
        ax.tick_params(labelsize=7)
        for spine in ax.spines.values():
            spine.set_color(colour)
            spine.set_linewidth(2 if role else 0.8)
        ax.text(1.005, 0.5, "kHz", transform=ax.transAxes, fontsize=7, va="center")
    axes[-1].set_xlabel("time (s)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
