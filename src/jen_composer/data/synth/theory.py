"""Just enough music theory for the benchmark: scales, diatonic chords, progressions."""

from __future__ import annotations

from dataclasses import dataclass

NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
SCALES = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10]}
# Diatonic progressions as 0-based scale degrees, four bars each.
PROGRESSIONS = {
    "major": [[0, 4, 5, 3], [0, 5, 3, 4], [1, 4, 0, 0], [0, 3, 4, 3], [0, 3, 0, 4]],
    "minor": [[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 6], [0, 3, 6, 2], [0, 5, 3, 4]],
}
QUALITIES = {(4, 7): "", (3, 7): "m", (3, 6): "dim", (4, 7, 11): "maj7", (3, 7, 10): "m7",
             (4, 7, 10): "7", (3, 6, 10): "m7b5"}


@dataclass(frozen=True)
class Chord:
    root: int  # pitch class 0..11
    tones: tuple[int, ...]  # pitch classes, root first
    name: str


def scale_pcs(tonic: int, mode: str) -> list[int]:
    return [(tonic + s) % 12 for s in SCALES[mode]]


def diatonic_chord(tonic: int, mode: str, degree: int, sevenths: bool) -> Chord:
    """Stack scale thirds on ``degree``; minor-key v becomes V (harmonic minor) for a real cadence."""
    scale = scale_pcs(tonic, mode)
    n = 4 if sevenths else 3
    tones = [scale[(degree + 2 * i) % 7] for i in range(n)]
    if mode == "minor" and degree == 4:
        tones[1] = (tones[1] + 1) % 12
    intervals = tuple((t - tones[0]) % 12 for t in tones[1:])
    quality = QUALITIES.get(intervals, "")
    return Chord(tones[0], tuple(tones), NOTE_NAMES[tones[0]] + quality)


def nearest_pitch(pc: int, target: int, low: int, high: int) -> int:
    """The MIDI pitch of class ``pc`` closest to ``target`` within [low, high]."""
    candidates = [p for p in range(low, high + 1) if p % 12 == pc]
    return min(candidates, key=lambda p: (abs(p - target), p))


def key_name(tonic: int, mode: str) -> str:
    return f"{NOTE_NAMES[tonic]} {mode}"
