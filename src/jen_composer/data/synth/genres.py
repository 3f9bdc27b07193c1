"""Per-genre style: tempo range, modes, drum grooves, bass/comping/melody styles, GM programs, moods."""

from __future__ import annotations

from dataclasses import dataclass, field

# General MIDI drum notes
KICK, SNARE, CLAP, CHH, OHH, PEDAL, RIDE, CRASH, RIM = 36, 38, 39, 42, 46, 44, 51, 49, 37


@dataclass(frozen=True)
class Genre:
    name: str
    tempo: tuple[int, int]
    modes: tuple[str, ...]
    drums: dict[int, list[tuple[int, int]]]  # drum note -> [(16th step, velocity)] per 4/4 bar
    bass_style: str  # eighths | walking | syncopated | offbeat
    comp_style: str  # block | power | stabs | jazz | pad
    melody_density: float  # probability of a note on each 8th (16th for funk)
    swing: bool
    sevenths: bool
    programs: dict[str, list[tuple[int, str]]]  # track -> [(GM program, instrument words)]
    moods: tuple[str, ...]
    gains: dict[str, float] = field(default_factory=dict)


def _every(step: int, vel: int, start: int = 0) -> list[tuple[int, int]]:
    return [(s, vel) for s in range(start, 16, step)]


GENRES: dict[str, Genre] = {
    "pop": Genre(
        "pop", (96, 124), ("major", "major", "minor"),
        {KICK: [(0, 110), (8, 105), (10, 80)], SNARE: [(4, 105), (12, 105)], CHH: _every(2, 75)},
        "eighths", "block", 0.55, False, False,
        {"bass": [(33, "electric bass"), (38, "synth bass")],
         "instrument": [(0, "piano"), (4, "electric piano"), (24, "acoustic guitar")],
         "melody": [(73, "flute"), (80, "square lead"), (11, "vibraphone")]},
        ("happy", "uplifting", "bright", "catchy"),
        {"bass": 0.8, "drums": 0.8, "instrument": 0.6, "melody": 0.7},
    ),
    "rock": Genre(
        "rock", (112, 148), ("minor", "major"),
        {KICK: [(0, 120), (6, 100), (8, 115)], SNARE: [(4, 120), (12, 120)], OHH: _every(2, 80)},
        "eighths", "power", 0.5, False, False,
        {"bass": [(34, "picked bass"), (33, "electric bass")],
         "instrument": [(29, "overdriven guitar"), (30, "distorted guitar")],
         "melody": [(81, "sawtooth lead"), (29, "lead guitar")]},
        ("energetic", "driving", "aggressive", "powerful"),
        {"bass": 0.8, "drums": 0.85, "instrument": 0.55, "melody": 0.65},
    ),
    "funk": Genre(
        "funk", (96, 114), ("minor",),
        {KICK: [(0, 115), (3, 95), (10, 105)], SNARE: [(4, 115), (7, 45), (9, 45), (12, 115)], CHH: _every(1, 65)},
        "syncopated", "stabs", 0.45, False, True,
        {"bass": [(36, "slap bass"), (33, "electric bass")],
         "instrument": [(27, "clean electric guitar"), (16, "organ")],
         "melody": [(61, "brass section"), (65, "alto saxophone"), (56, "trumpet")]},
        ("groovy", "funky", "tight", "playful"),
        {"bass": 0.85, "drums": 0.8, "instrument": 0.55, "melody": 0.65},
    ),
    "jazz": Genre(
        "jazz", (100, 140), ("major", "minor"),
        {RIDE: [(0, 85), (4, 90), (7, 70), (8, 85), (12, 90), (15, 70)], PEDAL: [(4, 70), (12, 70)], KICK: [(0, 60)]},
        "walking", "jazz", 0.5, True, True,
        {"bass": [(32, "upright bass")],
         "instrument": [(0, "piano"), (26, "jazz guitar")],
         "melody": [(65, "alto saxophone"), (66, "tenor saxophone"), (56, "trumpet")]},
        ("smooth", "relaxed", "mellow", "sophisticated"),
        {"bass": 0.9, "drums": 0.7, "instrument": 0.6, "melody": 0.7},
    ),
    "electronic": Genre(
        "electronic", (120, 132), ("minor",),
        {KICK: _every(4, 120), CLAP: [(4, 105), (12, 105)], OHH: _every(4, 75, start=2), CHH: [(s, 55) for s in (1, 3, 5, 7, 9, 11, 13, 15)]},
        "offbeat", "pad", 0.5, False, False,
        {"bass": [(38, "synth bass"), (39, "synth bass")],
         "instrument": [(89, "warm synth pad"), (90, "polysynth pad")],
         "melody": [(80, "square lead"), (81, "sawtooth lead")]},
        ("euphoric", "hypnotic", "dark", "dreamy"),
        {"bass": 0.85, "drums": 0.85, "instrument": 0.5, "melody": 0.65},
    ),
}
