"""A 60 s, 4-track piece on the CPU: its time, and whether its window seams stand out (issue 15).

The piece is generated jointly (every track) as windows with the checkpoint's sampler and
``composition.longform``. Each seam (the centre of an overlap, where the crossfade sits) is scored
on a segment as long as the overlap; segments of the same length that touch no overlap give the
range seen inside windows. Scores, all from the project's metrics on the mono tracks at
``evaluation.coherence.sample_rate``:

- onset density: onsets per second of the mix (``metrics.coherence.onset_times``);
- spectral flux: mean onset strength of the mix (``metrics.fit.onset_envelope``, flux on a log-mel);
- rhythmic fit: mean over the non-drum tracks of ``metrics.fit.rhythmic_fit_stems`` against the drums;
- harmonic fit: mean over the non-drum tracks of ``metrics.fit.harmonic_fit_stems`` against the others.

A seam passes a score when it lies within the inside segments' 5th-95th percentile. It also writes
``docs/longform_seam.png``: the spectrogram (``data.spectrogram.spectrogram_figure``) around the
first seam. ``jen-composer bench --only longform_seams [--ckpt PATH]``; ``--quick``: 20 s, 2 steps.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.common import BenchRow
from jen_composer.core.io import atomic_path
from jen_composer.data.spectrogram import spectrogram_figure
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.bundle import checkpoint_or_bundle
from jen_composer.inference.longform_audio import piece_windows
from jen_composer.inference.pipeline import ComposerPipeline
from jen_composer.metrics.coherence import onset_times
from jen_composer.metrics.fit import harmonic_fit_stems, onset_envelope, rhythmic_fit_stems
from jen_composer.workflows.evaluate import mono_at

PNG = Path(__file__).resolve().parents[1] / "docs" / "longform_seam.png"
PROMPT = "steady funk groove with slap bass, clean guitar and a bright lead"
SCORES = ("onset density", "spectral flux", "rhythmic fit", "harmonic fit")


def segment_scores(stems: dict[str, np.ndarray], sr: int, ev, drums: str) -> dict[str, float]:  # noqa: ANN001
    """The four scores of one segment of mono tracks."""
    with warnings.catch_warnings():  # librosa's CQT of a 2 s segment warns about its own downsampled octaves
        warnings.filterwarnings("ignore", message="n_fft=.* is too large", category=UserWarning)
        return _scores(stems, sr, ev, drums)


def _scores(stems: dict[str, np.ndarray], sr: int, ev, drums: str) -> dict[str, float]:  # noqa: ANN001
    hop, silence = int(ev.coherence.hop_length), float(ev.fit.silence_db)
    mix = np.sum(list(stems.values()), axis=0)
    others = [t for t in stems if t != drums]
    rhythm = [rhythmic_fit_stems(stems[t], stems[drums], sr, hop, float(ev.coherence.onset_tolerance_seconds), silence)
              for t in others] if drums in stems else []
    harmony = [harmonic_fit_stems(stems[t], [stems[o] for o in others if o != t], sr, hop, silence,
                                  float(ev.fit.context_seconds)) for t in others]
    mean = lambda xs: float(np.nanmean(xs)) if np.isfinite(xs).any() else float("nan")  # noqa: E731
    return {"onset density": len(onset_times(mix, sr, hop)) / (len(mix) / sr),
            "spectral flux": float(np.mean(onset_envelope(mix, sr, hop))),
            "rhythmic fit": mean(np.asarray(rhythm, dtype=float)), "harmonic fit": mean(np.asarray(harmony, dtype=float))}


def seam_report(stems: dict[str, np.ndarray], sr: int, overlaps: list[tuple[float, float]], ev,  # noqa: ANN001
                drums: str, hop_s: float = 0.5) -> dict[str, dict[str, object]]:
    """Per score: the seams' values and the inside segments' 5th/95th percentiles."""
    length = min(b - a for a, b in overlaps)
    total = next(iter(stems.values())).shape[-1] / sr

    def scored(a: float) -> dict[str, float]:
        i, j = round(a * sr), round((a + length) * sr)
        return segment_scores({t: x[i:j] for t, x in stems.items()}, sr, ev, drums)

    seams = [scored((a + b) / 2 - length / 2) for a, b in overlaps]
    starts = np.arange(0.0, total - length + 1e-9, hop_s)
    inside = [scored(a) for a in starts if all(a + length <= lo or a >= hi for lo, hi in overlaps)]
    out: dict[str, dict[str, object]] = {}
    for name in SCORES:
        ref = np.array([s[name] for s in inside], dtype=float)
        ref = ref[np.isfinite(ref)]
        at = np.array([s[name] for s in seams], dtype=float)
        lo, hi = (np.percentile(ref, 5), np.percentile(ref, 95)) if len(ref) else (np.nan, np.nan)
        within = int(np.sum((at >= lo) & (at <= hi)))
        out[name] = {"seams": at, "p5": lo, "p95": hi, "inside": len(ref), "within": within}
    return out


def seam_png(out: dict[str, np.ndarray], sr: int, centre: float, path: Path, title: str) -> None:
    from PIL import Image

    a, b = max(0, round((centre - 2.0) * sr)), round((centre + 2.0) * sr)
    view = {t: w[..., a:b] for t, w in out.items()}
    view["mix"] = np.sum(list(view.values()), axis=0)
    image = spectrogram_figure(view, sr, roles={t: "generated" for t in out}, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format="PNG")


def run_benchmarks(quick: bool = False, ckpt: str | None = None, png: Path = PNG) -> list[BenchRow]:
    pipe = ComposerPipeline.from_checkpoint(checkpoint_or_bundle(ckpt))
    seconds = 20.0 if quick else 60.0
    settings = SamplerSettings.from_config(pipe.cfg.composer.sampler).replace(steps=2 if quick else None)
    windows = piece_windows(pipe, seconds)
    start = time.perf_counter()
    out = pipe.generate(PROMPT, {}, list(pipe.tracks), seconds=seconds, seed=0, settings=settings)
    took = time.perf_counter() - start
    hop_s = int(pipe.autoencoder.hop) / pipe.sample_rate
    overlaps = [(w.start * hop_s, (w.start + w.known) * hop_s) for w in windows[1:]]
    ev = pipe.cfg.evaluation
    rate = int(ev.coherence.sample_rate)
    mono = {t: mono_at(w, pipe.sample_rate, rate) for t, w in out.items()}
    report = seam_report(mono, rate, overlaps, ev, str(ev.coherence.drums_track))
    lf = pipe.cfg.composition.longform
    source = f"checkpoint {ckpt}" if ckpt else "bundled checkpoint"
    config = (f"{source}, 4 tracks jointly, {seconds:g} s = {len(windows)} windows of {lf.window_seconds:g} s "
              f"(overlap {lf.overlap_seconds:g} s), {settings.name} {settings.steps} steps")
    rows = [BenchRow("longform: generate", config + ", CPU", took, "s", f"{seconds / took:.2f} x real time")]
    for name, r in report.items():
        seams = np.asarray(r["seams"], dtype=float)
        note = (f"seams {np.nanmin(seams):.3g}..{np.nanmax(seams):.3g} vs inside p5-p95 "
                f"[{r['p5']:.3g}, {r['p95']:.3g}] over {r['inside']} segments") if np.isfinite(seams).any() else "not measurable (silent)"
        rows.append(BenchRow(f"longform seams: {name}", f"{len(seams)} seams, {overlaps[0][1] - overlaps[0][0]:g} s segments",
                             float(r["within"]) / max(1, len(seams)), "share within", note))
    centre = sum(overlaps[0]) / 2
    lo, hi = (x - centre + 2.0 for x in overlaps[0])
    seam_png(out, pipe.sample_rate, centre, png,
             f"{centre - 2:g}-{centre + 2:g} s of a {seconds:g} s piece ({source}): windows 1 and 2 overlap at "
             f"{lo:g}-{hi:g} s here, crossfade of {lf.crossfade_seconds:g} s at {2.0:g} s")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ckpt", help="composer checkpoint (default: the bundled weights)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--png", type=Path, default=PNG)
    args = p.parse_args()
    for row in run_benchmarks(args.quick, args.ckpt, args.png):
        print(row)


if __name__ == "__main__":
    main()
