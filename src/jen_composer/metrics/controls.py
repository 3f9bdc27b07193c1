"""Known-wrong versions of real stems, the controls every score must tell from the real thing.

- ``half_beat``: the same stem half a beat late (zeros in front, same length);
- ``tritone``: the same part six semitones up, re-rendered from the song's MIDI when it has one
  (no pitch-shifting artefacts), else pitch-shifted with librosa;
- ``foreign_song``: the id of another song at the same tempo (the nearest tempo when none matches);
- ``shaped_noise``: stationary noise with the stem's long-term spectrum smoothed over a third of an
  octave (its spectral envelope, without pitch detail), at the same RMS level.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from jen_composer.metrics.synthetic import shift

TRITONE = 6
CONTROLS = ("half_beat", "tritone", "foreign", "noise")
_PITCH = frozenset({"tritone", "foreign", "noise"})
_TIME = frozenset({"half_beat", "noise"})
# What each score is built to notice, fixed from its definition before any validation run (never
# from its results): pitch scores compare pitch classes with chords or kept stems, so a part moved
# half a beat keeps almost all of them; onset scores compare onset times, which a tritone keeps; the
# foreign control is another song AT THE SAME TEMPO on the same beat grid, so only pitch can tell it;
# tempo accuracy only notices a missing pulse. A score passes validation when its 95% interval
# excludes 0 for every control listed here; the other cells are reported but not required.
DESIGNED_FOR: dict[str, frozenset[str]] = {
    "harmonic_chords": _PITCH, "harmonic_stems": _PITCH, "pitch_chords": _PITCH, "bass_chord_agreement": _PITCH,
    "key_agreement": _PITCH, "chroma_agreement": _PITCH,
    "rhythm_grid": _TIME, "rhythm_drums": _TIME, "beat_sync": _TIME,
    "tempo_accuracy": frozenset({"noise"}),
    "probe": _PITCH, "probe_mix": _PITCH,  # key and genre heads: pitch content and style, not timing
    "fad_mix": _PITCH,  # a distance between sets of mixes: noise, clashing keys, a transposed part
}


def half_beat(wave: np.ndarray, tempo: float, sr: int) -> np.ndarray:
    return shift(wave, 30.0 / float(tempo), sr)


def tritone(wave: np.ndarray, sr: int, midi: Path | None = None, soundfont: str = "", gain: float = 1.0) -> np.ndarray:
    """``wave`` a tritone up: the part's MIDI re-rendered (when given and the soundfont exists), else shifted."""
    if midi is not None and midi.is_file() and soundfont and Path(soundfont).is_file():
        import pretty_midi

        from jen_composer.data.synth.render import render_part

        inst = pretty_midi.PrettyMIDI(str(midi)).instruments[0]
        for note in inst.notes:
            note.pitch = note.pitch + TRITONE if note.pitch + TRITONE <= 108 else note.pitch - TRITONE
        return render_part(inst, sr, len(wave), soundfont) * np.float32(gain)
    import librosa

    return librosa.effects.pitch_shift(np.asarray(wave, dtype=np.float32), sr=sr, n_steps=TRITONE)


def foreign_song(song: str, tempi: Mapping[str, float], rng: np.random.Generator) -> str:
    """Another song whose tempo is closest to ``song``'s (a random one among equals)."""
    others = {s: abs(float(t) - float(tempi[song])) for s, t in tempi.items() if s != song}
    best = min(others.values())
    return str(rng.choice(sorted(s for s, d in others.items() if d == best)))


def shaped_noise(wave: np.ndarray, sr: int, rng: np.random.Generator, n_fft: int = 2048) -> np.ndarray:
    """Noise with ``wave``'s third-octave-smoothed long-term spectrum and RMS (silence stays silence)."""
    y = np.asarray(wave, dtype=np.float64)
    rms = float(np.sqrt(np.mean(y**2))) if len(y) else 0.0
    if rms == 0.0:
        return np.zeros(len(y), dtype=np.float32)
    frames = [y[i:i + n_fft] for i in range(0, max(1, len(y) - n_fft), n_fft // 2)]
    power = np.mean([np.abs(np.fft.rfft(f * np.hanning(len(f)), n_fft)) ** 2 for f in frames], axis=0)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    smooth = np.empty_like(power)
    for i, f in enumerate(freqs):  # average over [f / 2^(1/6), f * 2^(1/6)]
        lo, hi = np.searchsorted(freqs, [f / 2 ** (1 / 6), f * 2 ** (1 / 6)])
        smooth[i] = power[lo:max(hi, lo + 1)].mean()
    spectrum = np.fft.rfft(rng.standard_normal(len(y)))
    gain = np.sqrt(np.interp(np.fft.rfftfreq(len(y), 1.0 / sr), freqs, smooth))
    noise = np.fft.irfft(spectrum * gain, len(y))
    return (noise * rms / max(float(np.sqrt(np.mean(noise**2))), 1e-12)).astype(np.float32)
