"""`jen-composer data separate`: split plain mixes into stems with Demucs (the paper's augmentation).

Demucs is optional: without the package or its weights the command fails with one clear line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jen_composer.core.errors import DataError, one_line
from jen_composer.core.io import atomic_dir
from jen_composer.data.audio import AUDIO_EXTENSIONS, fit_peak, load_resampled, peak, write_audio
from jen_composer.data.convert.common import ConvertSummary, safe_id
from jen_composer.data.schema import SongMeta, write_meta

DEMUCS_TO_TRACK = {"bass": "bass", "drums": "drums", "vocals": "melody", "other": "instrument"}


def load_demucs(model: str):  # noqa: ANN201 (demucs types are optional)
    try:
        from demucs.pretrained import get_model
    except ImportError:
        raise DataError("`data separate` needs Demucs: pip install demucs (then make its weights available offline)") from None
    try:
        return get_model(model)
    except Exception as exc:
        raise DataError(f"Demucs model '{model}' could not be loaded (weights missing or offline?): "
                        f"{one_line(exc)}") from None


def separate_folder(src: str | Path, out: str | Path, sample_rate: int, channels: int,
                    model: str = "htdemucs", progress: bool = True) -> ConvertSummary:
    """Separate every mix file under ``src`` into ``out/<song>/{bass,drums,instrument,melody,mix}.wav``."""
    mixes = sorted(p for p in Path(src).rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
    if not mixes:
        raise DataError(f"no audio files under {src}")
    net = load_demucs(model)
    import torch
    from demucs.apply import apply_model
    from tqdm.auto import tqdm

    summary = ConvertSummary()
    for path in tqdm(mixes, desc="separate", unit="song", disable=not progress):
        song = safe_id(str(path.relative_to(src).with_suffix("")))
        x = load_resampled(path, song, net.samplerate, net.audio_channels)
        with torch.no_grad():
            y = apply_model(net, torch.from_numpy(x)[None])[0].numpy()
        tracks: dict[str, np.ndarray] = {}
        for i, name in enumerate(net.sources):  # 6-source models: guitar and piano join "instrument"
            track = DEMUCS_TO_TRACK.get(name, "instrument")
            tracks[track] = tracks.get(track, 0) + load_resampled_array(y[i], net.samplerate, sample_rate, channels)
        tracks["mix"] = load_resampled_array(x, net.samplerate, sample_rate, channels)
        _, gain = fit_peak(np.array([max(peak(a) for a in tracks.values())]))  # resampling may overshoot
        if gain != 1.0:
            summary.notes.append(f"song '{song}': all stems scaled by {20 * np.log10(gain):.1f} dB to avoid clipping")
        with atomic_dir(Path(out) / song) as folder:
            for track, stem in tracks.items():
                write_audio(folder / f"{track}.wav", stem * gain, sample_rate)
            write_meta(folder, SongMeta(caption=path.stem))
        summary.written.append(song)
    return summary


def load_resampled_array(x: np.ndarray, orig_sr: int, sample_rate: int, channels: int) -> np.ndarray:
    from jen_composer.data.audio import resample, to_channels

    return to_channels(resample(x, orig_sr, sample_rate), channels)
