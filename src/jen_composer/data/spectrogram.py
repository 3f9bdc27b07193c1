"""Spectrogram pictures of audio clips: what training previews and written stems show beside the wavs."""

from __future__ import annotations

import numpy as np
import torch


def spectrogram_image(waves: list[torch.Tensor], n_fft: int = 512) -> np.ndarray:
    """Log-magnitude spectrograms of mono-mixed clips stacked vertically, as an RGB uint8 image."""
    import matplotlib

    cmap = matplotlib.colormaps["magma"]
    rows = []
    for wave in waves:
        mono = wave.detach().float().cpu().reshape(-1, wave.shape[-1]).mean(0)
        spec = torch.stft(mono, n_fft, n_fft // 4, window=torch.hann_window(n_fft), return_complex=True).abs()
        db = 20 * torch.log10(spec + 1e-5)
        db = ((db.clamp(min=-80, max=20) + 80) / 100).flip(0).numpy()
        rows.append((cmap(db)[..., :3] * 255).astype(np.uint8))
    return np.concatenate(rows, axis=0)
