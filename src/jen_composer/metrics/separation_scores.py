"""SI-SDR of separated stems against the true ones, and the two anchors any separator sits between.

Two scores per stem: waveform SI-SDR, and the same ratio on STFT magnitudes (``magnitude_sdr``),
which a separator that gets every bin's level right but not its phase passes; a latent model on a
phase-blind codec (the spectral autoencoder decodes phase by Griffin-Lim) can only be judged by
the second, against the codec's own round trip of the true stems as its reachable ceiling.

- floor: the mix itself as every stem's estimate (what a separator that does nothing scores);
- ceiling: the ideal ratio mask from the true stems, ``M_i = |S_i| / sqrt(sum_j |S_j|^2)`` per STFT
  bin (Wang's IRM with beta = 1/2) applied to the mix: the best any real-valued mask on this STFT
  can do, so mask-based separators stay below it.

SI-SDR is zero-mean and scale-invariant (torchmetrics); a silent true stem has no defined SI-SDR and
is reported as missing (nan), never as a number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torchmetrics.functional.audio import scale_invariant_signal_distortion_ratio

from jen_composer.data.audio import rms_db
from jen_composer.data.mix import mix_stems
from jen_composer.metrics.intervals import Interval, t_interval

SILENT_DB = -60.0  # a true stem quieter than this (RMS dBFS) is not scored
N_FFT, HOP = 1024, 256
MEAN = "mean"  # the row's column averaged over its stems (per song first)


def _aligned(estimate: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(estimate cut or zero-padded to the reference's length, reference) in float64; None for a
    silent reference, which no score is defined for."""
    ref = np.asarray(reference, dtype=np.float64)
    if rms_db(ref) < SILENT_DB:
        return None
    est = np.zeros_like(ref)
    n = min(len(ref), len(estimate))
    est[:n] = np.asarray(estimate, dtype=np.float64)[:n]
    return est, ref


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """SI-SDR in dB of a mono estimate (cut or padded to the reference's length); nan for a silent reference."""
    pair = _aligned(estimate, reference)
    if pair is None:
        return float("nan")
    est, ref = pair
    return float(scale_invariant_signal_distortion_ratio(torch.from_numpy(est), torch.from_numpy(ref), zero_mean=True))


def magnitude_sdr(estimate: np.ndarray, reference: np.ndarray, n_fft: int = N_FFT, hop: int = HOP) -> float:
    """SI-SDR in dB of the estimate's STFT magnitudes against the reference's (phase-blind; nan for a
    silent reference): ``10 log10 |a R|^2 / |a R - E|^2`` with ``a`` the least-squares gain."""
    pair = _aligned(estimate, reference)
    if pair is None:
        return float("nan")
    est, ref = pair
    window = torch.hann_window(n_fft, dtype=torch.float64)
    r, e = (torch.stft(torch.from_numpy(x), n_fft, hop, window=window, return_complex=True).abs().flatten()
            for x in (ref, est))
    eps = torch.finfo(torch.float64).eps  # as torchmetrics' SI-SDR: a silent estimate scores ~0 dB, not -inf
    target = ((torch.dot(e, r) + eps) / (torch.dot(r, r) + eps)) * r
    return float(10 * torch.log10((target.square().sum() + eps) / ((target - e).square().sum() + eps)))


SCORES = {"si_sdr": si_sdr, "magnitude_sdr": magnitude_sdr}  # name -> (estimate, reference) -> dB


def mix_floor(stems: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The floor anchor: the (plain-sum) mix as every stem's estimate."""
    mix = mix_stems(dict(stems))
    return {t: mix for t in stems}


def ideal_ratio_mask(stems: Mapping[str, np.ndarray], n_fft: int = N_FFT, hop: int = HOP) -> dict[str, np.ndarray]:
    """The ceiling anchor: each stem's ideal ratio mask applied to the mix's STFT, back to audio."""
    x = torch.from_numpy(np.stack([np.asarray(s, dtype=np.float32) for s in stems.values()]))
    window = torch.hann_window(n_fft)
    spec = torch.stft(x, n_fft, hop, window=window, return_complex=True)  # [k, F, N]
    power = spec.abs().square()
    mask = (power / power.sum(0, keepdim=True).clamp_min(1e-20)).sqrt()
    mix = spec.sum(0, keepdim=True)
    out = torch.istft(mask * mix, n_fft, hop, window=window, length=x.shape[-1])
    return {t: out[i].numpy() for i, t in enumerate(stems)}


def score_stems(estimates: Mapping[str, np.ndarray], stems: Mapping[str, np.ndarray],
                score: str = "si_sdr") -> dict[str, float]:
    """One of ``SCORES`` per stem, plus ``MEAN`` over the stems that have one (nan when none has)."""
    scores = {t: SCORES[score](estimates[t], stems[t]) for t in stems}
    finite = [v for v in scores.values() if np.isfinite(v)]
    return {**scores, MEAN: float(np.mean(finite)) if finite else float("nan")}


def summarise(per_song: Sequence[Mapping[str, float]], tracks: Sequence[str]) -> dict[str, Interval]:
    """Mean and 95% t-interval over songs of every stem's SI-SDR and of the per-song mean."""
    return {t: t_interval([row[t] for row in per_song]) for t in [*tracks, MEAN]}
