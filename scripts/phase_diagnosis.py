"""Where does a phase-head spectral autoencoder lose the pitch: in its magnitudes or in the phase it decodes with?

Why: the bundled autoencoder's round trip lost 20% of the real stems' harmonic fit; this separates the
two halves of its decoder. For the pitched stems of the first N songs of a split it scores the
harmonic fit (chord-tone share against the song's chord labels, `metrics.fit`) of:
- the original stems;
- the predicted magnitudes with the input's own phase (what the magnitudes alone keep);
- Griffin-Lim from the true magnitudes (what phase retrieval can do when the magnitudes are exact);
- the predicted magnitudes decoded by each phase reconstruction: per-bin integrated advances, then
  0 or N Griffin-Lim iterations; locked phases (`spectral.peak_locked_angles`), then 0 or N.
    python scripts/phase_diagnosis.py --autoencoder runs/export/gpu-ae-v1 --data data/bench --split test --clips 12
Figures: docs/results/autoencoder_bench.md (decoding section).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from jen_composer.data.index import list_song_dirs
from jen_composer.data.splits import resolve_splits
from jen_composer.metrics.fit import harmonic_fit_chords
from jen_composer.models.autoencoder import load_autoencoder
from jen_composer.models.autoencoder.spectral import griffin_lim, peak_locked_angles, stft_frames
from jen_composer.workflows.demo_samples import song_stems

PITCHED = ("bass", "instrument", "melody")


def decodings(model: torch.nn.Module, wave: torch.Tensor, iters: int) -> dict[str, torch.Tensor]:
    """Every variant's waveform [C, S] for one stem ``wave`` [1, C, S] (S a multiple of the hop)."""
    dec = model.decoder
    n_fft, hop, window, length = dec.n_fft, dec.hop, dec.window, wave.shape[-1]
    magnitude, advance = dec.heads(model.encode_raw(wave))
    source = stft_frames(wave.reshape(-1, length), n_fft, hop, window)
    integrated = torch.polar(torch.ones_like(advance), torch.cumsum(advance, dim=-1))
    locked = peak_locked_angles(magnitude, advance)
    return {
        "original": wave.reshape(-1, length),
        "predicted magnitudes, the input's phase": torch.istft(
            magnitude * source / source.abs().clamp_min(1e-12), n_fft, hop, window=window, center=True, length=length),
        f"true magnitudes, Griffin-Lim {iters}": griffin_lim(source.abs(), n_fft, hop, window, iters),
        "integrated advances, no Griffin-Lim": griffin_lim(magnitude, n_fft, hop, window, 0, angles=integrated),
        f"integrated advances, Griffin-Lim {iters}": griffin_lim(magnitude, n_fft, hop, window, iters, angles=integrated),
        "locked phases, no Griffin-Lim": griffin_lim(magnitude, n_fft, hop, window, 0, angles=locked),
        f"locked phases, Griffin-Lim {iters}": griffin_lim(magnitude, n_fft, hop, window, iters, angles=locked),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--autoencoder", required=True, help="an exported spectral autoencoder with the phase head")
    ap.add_argument("--data", type=Path, required=True, help="the rendered benchmark (needs its chord labels)")
    ap.add_argument("--split", default="test", choices=["train", "val", "test"])
    ap.add_argument("--clips", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=4.096)
    ap.add_argument("--iters", type=int, default=32, help="Griffin-Lim iterations of the refined variants")
    a = ap.parse_args()
    model = load_autoencoder(a.autoencoder).eval()
    if getattr(getattr(model, "decoder", None), "predict_phase", False) is not True:
        raise SystemExit(f"{a.autoencoder}: not a spectral autoencoder with the phase head (spectral_phase=predicted)")
    splits = resolve_splits(a.data, [d.name for d in list_song_dirs(a.data)], 0, 0.2, 0.1)
    songs = sorted(splits.get(a.split, []))[: a.clips]
    scores: dict[str, dict[str, list[float]]] = {}
    with torch.no_grad():
        for song in songs:
            stems = song_stems(a.data, song, PITCHED, round(a.seconds * model.sample_rate), model.sample_rate)
            chords = json.loads((a.data / song / "meta.json").read_text())["labels"]["chords"]
            for track in PITCHED:
                wave = torch.from_numpy(np.ascontiguousarray(stems[track]))[None]
                wave = wave[..., : wave.shape[-1] // model.hop * model.hop]
                for name, out in decodings(model, wave, a.iters).items():
                    fit = harmonic_fit_chords(out.numpy().mean(0), model.sample_rate, chords)
                    scores.setdefault(name, {t: [] for t in PITCHED})[track].append(fit)
    print(f"| {a.split} split, first {len(songs)} songs x {a.seconds:g} s: harmonic fit | all | "
          + " | ".join(PITCHED) + " |")
    print("|---|---:|" + "---:|" * len(PITCHED))
    for name, per in scores.items():
        every = [v for t in PITCHED for v in per[t]]
        print(f"| {name} | {np.nanmean(every):.3f} | " + " | ".join(f"{np.nanmean(per[t]):.3f}" for t in PITCHED) + " |")


if __name__ == "__main__":
    main()
