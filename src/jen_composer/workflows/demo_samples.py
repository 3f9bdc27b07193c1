"""The demo's music: what the bundled weights make from a held-out song's prompt and stems.

- joint: all four tracks from the prompt alone;
- given drums + bass: instrument and melody generated over the song's own drums and bass;
- given another song's drums + bass: the same request over a different song at the nearest tempo
  (a control: a model that listens to its conditions fits the first song's labels less here);
- a three-round co-composition session (generate all; keep drums, regenerate; keep bass, regenerate).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from omegaconf import DictConfig

from jen_composer.composition.session import Session
from jen_composer.core.config.composition import CompositionConfig
from jen_composer.core.errors import DataError
from jen_composer.data.index import list_song_dirs
from jen_composer.data.splits import resolve_splits
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.pipeline import ComposerPipeline
from jen_composer.inference.stems_io import write_stems
from jen_composer.metrics import controls
from jen_composer.workflows.results_page import PageSection

CONDITIONS = ("drums", "bass")


@dataclass
class DemoSamples:
    prompt: str
    song: str
    other_song: str
    sample_rate: int
    meta: dict[str, Any]  # the song's meta.json: tags (tempo, key), labels (chords, beats)
    audio: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # sample -> track -> [C, S]
    generated: dict[str, list[str]] = field(default_factory=dict)  # sample -> the tracks it generated
    sections: list[PageSection] = field(default_factory=list)


def held_out_songs(data_root: Path, cfg: DictConfig) -> list[str]:
    splits = resolve_splits(data_root, [d.name for d in list_song_dirs(data_root)], int(cfg.data.split_seed),
                            float(cfg.data.test_fraction), float(cfg.data.val_fraction))
    songs = sorted(splits["test"])
    if len(songs) < 2:
        raise DataError(f"{data_root}: the demo needs at least 2 test songs, found {len(songs)} (render more songs)")
    return songs


def _meta(data_root: Path, song: str) -> dict[str, Any]:
    return json.loads((data_root / song / "meta.json").read_text())


def _stems(data_root: Path, song: str, names: tuple[str, ...], samples: int) -> dict[str, np.ndarray]:
    """The song's stems as mixed in its mix (gain-scaled), cut to ``samples``: [C, S] float32."""
    gains = _meta(data_root, song)["gains"]
    out = {}
    for name in names:
        wave, _ = sf.read(data_root / song / f"{name}.wav", dtype="float32", always_2d=True)
        out[name] = wave.T[:, :samples] * float(gains[name])
    return out


def generate_samples(ckpt: Path, data_root: Path, cfg: DictConfig, out: Path, log: Callable[[str], None]) -> DemoSamples:
    pipe = ComposerPipeline.from_checkpoint(ckpt)
    if pipe.sample_rate != int(cfg.data.sample_rate):
        raise DataError(f"{data_root}: rendered at {cfg.data.sample_rate} Hz, the bundled weights work at {pipe.sample_rate} Hz")
    songs = held_out_songs(data_root, cfg)
    song = songs[0]
    meta = _meta(data_root, song)
    tempi = {s: float(_meta(data_root, s)["tags"]["tempo"]) for s in songs}
    other = controls.foreign_song(song, tempi, np.random.default_rng(0))  # the nearest tempo
    result = DemoSamples(meta["caption"], song, other, pipe.sample_rate, meta)
    seconds = CompositionConfig().seconds
    n = round(seconds * pipe.sample_rate)
    settings = SamplerSettings.from_config(pipe.cfg.composer.sampler)
    gen = [t for t in pipe.tracks if t not in CONDITIONS]

    def sample(key: str, title: str, note: str, kept: dict[str, np.ndarray], generate: list[str]) -> None:
        start = time.perf_counter()
        made = pipe.generate(result.prompt, kept, generate, seconds=seconds, seed=0, settings=settings)
        _add(result, out, key, title, note, {t: kept[t] if t in kept else made[t] for t in pipe.tracks}, generate)
        log(f"      {key}: {', '.join(generate)} generated in {time.perf_counter() - start:.1f} s")

    sample("joint", "Joint generation", f"All four tracks from the prompt of held-out song {song}.", {}, list(pipe.tracks))
    sample("given_drums_bass", "Given drums + bass", f"Instrument and melody generated over {song}'s own drums and bass.",
           _stems(data_root, song, CONDITIONS, n), gen)
    sample("given_other_drums_bass", "Control: given another song's drums + bass",
           f"The same request over {result.other_song}'s drums and bass (nearest tempo); scored against {song}.",
           _stems(data_root, result.other_song, CONDITIONS, n), gen)
    start = time.perf_counter()
    session = Session.create(out / "session", pipe, result.prompt, seconds=seconds, seed=0, settings=settings)
    session.generate_all()
    for keep in CONDITIONS:
        session.keep(keep)
        session.regenerate()
    _add(result, out, "session_round3", "Co-composition session, round 3 of 3",
         "Round 1 generated all tracks; round 2 kept its drums and regenerated the rest; round 3 also kept "
         "round 2's bass and regenerated instrument + melody (history in session/session.json).",
         {t: session.take(t) for t in pipe.tracks}, gen)
    log(f"      session: 3 rounds in {time.perf_counter() - start:.1f} s")
    return result


def _add(result: DemoSamples, out: Path, key: str, title: str, note: str, stems: dict[str, np.ndarray],
         generated: list[str]) -> None:
    kept = {t for t in stems if t not in generated}
    files = write_stems(out / key, stems, result.sample_rate, kept, title=title)
    roles = {t: "kept" if t in kept else "generated" for t in stems}
    result.audio[key], result.generated[key] = stems, list(generated)
    result.sections.append(PageSection(key, title, note, {k: v for k, v in files.items() if k != "spectrogram"},
                                       files["spectrogram"], roles))
