"""Compose one song as four MIDI parts plus its ground truth (beats, chords, key, tempo).

Coherence comes from shared structure: one key, one tempo, a four-bar progression that every part
follows, a two-bar melodic rhythm that repeats, and a groove that fixes where the beats are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pretty_midi

from jen_composer.data.synth.genres import CRASH, Genre
from jen_composer.data.synth.theory import (
    PROGRESSIONS,
    Chord,
    diatonic_chord,
    key_name,
    nearest_pitch,
    scale_pcs,
)

BEATS_PER_BAR = 4
STEPS_PER_BAR = 16


@dataclass
class Score:
    parts: dict[str, pretty_midi.Instrument]
    tags: dict[str, Any]
    caption: str
    labels: dict[str, Any]
    base_gains: dict[str, float]


class _Clock:
    def __init__(self, tempo: float, swing: bool) -> None:
        self.step = 60.0 / tempo / 4  # a 16th note
        self.swing = swing

    def t(self, bar: int, step: float) -> float:
        """Time of a 16th ``step`` in ``bar``; swung 8th off-beats land at 2/3 of the beat."""
        if self.swing and step % 4 == 2:
            step = step - 2 + 8 / 3
        return (bar * STEPS_PER_BAR + step) * self.step


def _note(inst: pretty_midi.Instrument, pitch: int, start: float, end: float, vel: int) -> None:
    inst.notes.append(pretty_midi.Note(int(np.clip(vel, 1, 127)), int(pitch), float(start), float(end)))


def _drums(g: Genre, bars: int, clock: _Clock, rng: np.random.Generator) -> pretty_midi.Instrument:
    inst = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    for bar in range(bars):
        if bar % 4 == 0 and g.name != "jazz":
            _note(inst, CRASH, clock.t(bar, 0), clock.t(bar, 2), 100)
        for drum, hits in g.drums.items():
            for step, vel in hits:
                _note(inst, drum, clock.t(bar, step), clock.t(bar, step + 1), vel + int(rng.integers(-6, 7)))
    return inst


def _bass(g: Genre, chords: list[Chord], nxt: list[Chord], clock: _Clock, tonic: int, mode: str,
          program: int, rng: np.random.Generator) -> pretty_midi.Instrument:
    inst = pretty_midi.Instrument(program=program, name="bass")
    scale = scale_pcs(tonic, mode)
    for bar, (c, n) in enumerate(zip(chords, nxt)):
        root = nearest_pitch(c.root, 40, 33, 48)
        target = nearest_pitch(n.root, root, 33, 48)
        approach = target - 1 if target > root else target + 1  # chromatic approach to the next root
        if g.bass_style == "walking":
            line = [root, nearest_pitch(c.tones[1], root + 4, 33, 52), nearest_pitch(c.tones[2], root + 7, 33, 52), approach]
            for beat, p in enumerate(line):
                _note(inst, p, clock.t(bar, 4 * beat), clock.t(bar, 4 * beat + 3.5), 95)
        elif g.bass_style == "syncopated":
            steps = [(0, root), (3, root + 12), (6, root), (8, nearest_pitch(c.tones[2], root + 7, 33, 55)),
                     (10, root), (14, approach)]
            for s, p in steps:
                _note(inst, p, clock.t(bar, s), clock.t(bar, s + 1.5), 100 if s in (0, 8) else 85)
        elif g.bass_style == "offbeat":
            for s in range(2, 16, 4):
                _note(inst, root, clock.t(bar, s), clock.t(bar, s + 1.8), 100)
        else:  # eighths on the root, last eighth steps toward the next chord through the scale
            step_pc = scale[(scale.index(n.root) - 1) % 7] if n.root in scale else n.root
            for s in range(0, 16, 2):
                p = nearest_pitch(step_pc, target, 33, 50) if s == 14 and n.root != c.root else root
                _note(inst, p, clock.t(bar, s), clock.t(bar, s + 1.8), 100 if s % 4 == 0 else 85)
    return inst


def _voicing(c: Chord, center: int) -> list[int]:
    return sorted(nearest_pitch(pc, center, center - 7, center + 8) for pc in c.tones)


def _comp(g: Genre, chords: list[Chord], clock: _Clock, program: int, rng: np.random.Generator) -> pretty_midi.Instrument:
    inst = pretty_midi.Instrument(program=program, name="instrument")
    for bar, c in enumerate(chords):
        voicing = _voicing(c, 62)
        if g.comp_style == "power":
            r = nearest_pitch(c.root, 45, 40, 52)
            hits = [(s, 1.8, [r, r + 7, r + 12]) for s in range(0, 16, 2)]
        elif g.comp_style == "stabs":
            hits = [(s, 0.8, voicing) for s in (2, 6, 7, 10, 14)]
        elif g.comp_style == "jazz":
            picks = sorted(rng.choice([2, 6, 7, 10, 14], size=2, replace=False).tolist())
            hits = [(int(s), 2.5, voicing) for s in picks]
        elif g.comp_style == "pad":
            hits = [(0, 16, voicing)]
        else:  # block chords on the beats
            hits = [(s, 3.5, voicing) for s in range(0, 16, 4)]
        for s, dur, pitches in hits:
            for p in pitches:
                _note(inst, p, clock.t(bar, s), clock.t(bar, s + dur), 70 + int(rng.integers(-5, 6)))
    return inst


def _melody(g: Genre, chords: list[Chord], clock: _Clock, tonic: int, mode: str, program: int,
            rng: np.random.Generator) -> pretty_midi.Instrument:
    """Chord tones on strong beats, scale steps between; a two-bar rhythm repeated through the song."""
    inst = pretty_midi.Instrument(program=program, name="melody")
    grid = 1 if g.name == "funk" else 2
    rhythm = [[s for s in range(0, 16, grid) if s % 8 == 0 or rng.random() < g.melody_density] for _ in range(2)]
    scale = [p for p in range(60, 85) if p % 12 in scale_pcs(tonic, mode)]
    pitch = nearest_pitch(chords[0].tones[0], 72, 64, 81)
    for bar, c in enumerate(chords):
        steps = rhythm[bar % 2]
        for i, s in enumerate(steps):
            end = steps[i + 1] if i + 1 < len(steps) else 16
            if s % 4 == 0:
                pitch = nearest_pitch(c.tones[int(rng.integers(len(c.tones)))], pitch, 64, 81)
            else:
                idx = int(np.searchsorted(scale, pitch))
                idx = int(np.clip(idx + rng.choice([-2, -1, 1, 2]), 0, len(scale) - 1))
                pitch = int(np.clip(scale[idx], 64, 81))
            _note(inst, pitch, clock.t(bar, s), clock.t(bar, s + max(end - s, 1) * 0.9), 90 if s % 4 == 0 else 78)
    return inst


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def compose_song(genre: Genre, seconds: float, rng: np.random.Generator) -> Score:
    tempo = int(rng.integers(genre.tempo[0], genre.tempo[1] + 1))
    mode = str(rng.choice(genre.modes))
    tonic = int(rng.integers(12))
    progression = PROGRESSIONS[mode][int(rng.integers(len(PROGRESSIONS[mode])))]
    bar_seconds = BEATS_PER_BAR * 60.0 / tempo
    bars = int(np.ceil(seconds / bar_seconds))
    chords = [diatonic_chord(tonic, mode, progression[b % 4], genre.sevenths) for b in range(bars)]
    clock = _Clock(tempo, genre.swing)
    progs = {t: opts[int(rng.integers(len(opts)))] for t, opts in genre.programs.items()}
    parts = {
        "bass": _bass(genre, chords, chords[1:] + chords[:1], clock, tonic, mode, progs["bass"][0], rng),
        "drums": _drums(genre, bars, clock, rng),
        "instrument": _comp(genre, chords, clock, progs["instrument"][0], rng),
        "melody": _melody(genre, chords, clock, tonic, mode, progs["melody"][0], rng),
    }
    mood = str(rng.choice(genre.moods))
    instruments = [progs["bass"][1], "drums", progs["instrument"][1], progs["melody"][1]]
    key = key_name(tonic, mode)
    beats = [round(i * 60.0 / tempo, 6) for i in range(int(np.floor(seconds * tempo / 60.0 + 1e-9)) + 1)
             if i * 60.0 / tempo < seconds]
    labels = {
        "tempo": tempo, "key": key, "meter": "4/4", "beats": beats,
        "downbeats": [b for i, b in enumerate(beats) if i % BEATS_PER_BAR == 0],
        "chords": [{"start": round(b * bar_seconds, 6), "end": round((b + 1) * bar_seconds, 6), "chord": c.name}
                   for b, c in enumerate(chords) if b * bar_seconds < seconds],
        "programs": {t: p[0] for t, p in progs.items()}, "swing": genre.swing,
    }
    tags = {"genre": genre.name, "instruments": instruments, "mood": mood, "tempo": tempo, "key": key}
    templates = [
        "{a_mood} {genre} track in {key} at {tempo} BPM with {inst}.",
        "{Mood} {genre} song featuring {inst}, {tempo} BPM, key of {key}.",
        "{Genre} groove in {key}, {mood} feel, {inst}, around {tempo} BPM.",
    ]
    inst_text = ", ".join(instruments[:-1]) + f" and {_article(instruments[-1])} {instruments[-1]} melody"
    caption = templates[int(rng.integers(len(templates)))].format(
        a_mood=f"{_article(mood).capitalize()} {mood}", mood=mood, Mood=mood.capitalize(), genre=genre.name, Genre=genre.name.capitalize(), key=key, tempo=tempo, inst=inst_text,
    )
    return Score(parts, tags, caption, labels, dict(genre.gains))
