"""Write a set of generated stems the way people want to look at them: wavs, a mix, a spectrogram."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image

from jen_composer.data.audio import SAFE_PEAK
from jen_composer.data.mix import MIX, mix_stems
from jen_composer.data.spectrogram import spectrogram_figure


def write_stems(folder: Path, stems: dict[str, np.ndarray], sample_rate: int, kept: set[str] | None = None,
                title: str = "") -> dict[str, Path]:
    """`<track>.wav` (or `<track>_kept.wav`), `mix.wav` (peak-limited sum) and a labelled `spectrogram.png`."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = kept or set()
    paths: dict[str, Path] = {}
    for name, wave in stems.items():
        path = folder / f"{name}{'_kept' if name in kept else ''}.wav"
        sf.write(path, np.asarray(wave, np.float32).T, sample_rate, subtype="FLOAT")  # float: a loud take is kept, not clipped
        paths[name] = path
    mix = mix_stems(stems, peak_limit=SAFE_PEAK)
    paths[MIX] = folder / "mix.wav"
    sf.write(paths[MIX], mix.T, sample_rate)
    paths["spectrogram"] = folder / "spectrogram.png"
    roles = {name: "kept" if name in kept else "generated" for name in stems}
    image = spectrogram_figure({**stems, "mix": mix}, sample_rate, roles, title)
    Image.fromarray(image).save(paths["spectrogram"])
    return paths
