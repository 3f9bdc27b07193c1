"""The demo's music: what the bundled weights make from held-out songs' prompts and stems.

For each of ``SONGS`` rendered songs that the bundled weights never trained or validated on (the
manifest's ``seen_songs``; the first one is the page's; when the demo's own render holds fewer, the
next ones of the same render are rendered beside it, `held_out_render`):
- joint: all four tracks from the prompt alone;
- given drums + bass: instrument and melody generated over the song's own drums and bass;
- given another song's drums + bass: the same request over a different song at the nearest tempo
  (a control: a model that listens to its conditions fits the first song's labels less here).
Then a three-round co-composition session on the first song's prompt (generate all; keep drums,
regenerate; keep bass, regenerate). One song is one draw: the scores average over the songs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from omegaconf import DictConfig

from jen_composer.composition.session import Session
from jen_composer.core.config.composition import CompositionConfig
from jen_composer.core.errors import DataError
from jen_composer.core.io import atomic_dir, atomic_write_json
from jen_composer.data.index import list_song_dirs
from jen_composer.data.schema import DEFAULT_GAIN
from jen_composer.data.splits import SPLITS_FILE, resolve_splits
from jen_composer.data.synth.build import is_render_of, song_id, synth_songs
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.bundle import caption_fingerprint
from jen_composer.inference.pipeline import ComposerPipeline
from jen_composer.inference.stems_io import write_stems
from jen_composer.metrics import controls
from jen_composer.workflows.results_page import PageSection

CONDITIONS = ("drums", "bass")
# Held-out songs generated for and scored; the first one's samples make the page. Why 12: a score passes
# when its mean over the songs beats each control's, a sign test on the mean. The smallest validated
# effect on record for these weights (acceptance, 60 songs, seed 0 = the bundle's composer: beat-grid fit,
# conditional minus joint, +0.10 with a per-song SD of 0.15) shows with probability 0.88 in a mean of 3
# songs and 0.99 in one of 12; six rows must pass together. 12 songs: ~1 min on the 2-core CPU (40 s generating, 17 s scoring).
SONGS = 12
SAMPLES = ("joint", "given_drums_bass", "given_other_drums_bass")


@dataclass
class SongSamples:
    """One held-out song's three samples (the keys of ``SAMPLES``)."""

    song: str
    other_song: str
    prompt: str
    meta: dict[str, Any]  # the song's meta.json: tags (tempo, key), labels (chords, beats)
    audio: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # sample -> track -> [C, S]


@dataclass
class DemoSamples:
    songs: list[SongSamples]
    sample_rate: int
    generated: dict[str, list[str]] = field(default_factory=dict)  # sample -> the tracks it generated
    sections: list[PageSection] = field(default_factory=list)  # the first song's samples + the session
    held_out_note: str = ""

    @property
    def prompt(self) -> str:
        return self.songs[0].prompt

    @property
    def song(self) -> str:
        return self.songs[0].song


def held_out_songs(data_root: Path, cfg: DictConfig, seen: Mapping[str, list[str]] | None = None) -> tuple[list[str], str]:
    """Songs the bundled weights never saw (``seen``: id -> caption fingerprints), test split first, and a note.

    Without a record of what the weights saw (``seen`` None), the rendered test split."""
    splits = resolve_splits(data_root, [d.name for d in list_song_dirs(data_root)], int(cfg.data.split_seed),
                            float(cfg.data.test_fraction), float(cfg.data.val_fraction))
    ordered = sorted(splits["test"]) + sorted(set(splits["train"]) | set(splits["val"]))
    if seen is None:
        songs, note = sorted(splits["test"]), "the rendered test split (the bundle records no training songs)"
    else:
        songs = [s for s in ordered if caption_fingerprint(str(song_meta(data_root, s)["caption"])) not in seen.get(s, [])]
        note = "songs the bundled weights never trained or validated on (manifest seen_songs)"
    return songs, note


def held_out_render(data_root: Path, cfg: DictConfig, seen: Mapping[str, list[str]] | None, count: int,
                    log: Callable[[str], None] = print) -> tuple[Path, list[str], str]:
    """The folder holding the demo's ``count`` held-out songs, those songs and a note.

    ``data_root`` itself when it holds enough (or when the weights record nothing they saw, or it is
    not a render of ``cfg.data.synth``). Otherwise its own held-out songs and the next songs of the
    same render whose ids the weights never saw, rendered afresh into ``<data_root>-heldout`` (song i
    of a render depends only on its seed and i: `data.synth`)."""
    songs, note = held_out_songs(data_root, cfg, seen)
    synth = cfg.data.get("synth")
    same_render = synth is not None and is_render_of(data_root, synth, int(cfg.data.sample_rate), int(cfg.data.channels))
    if seen is None or len(songs) >= count or not same_render:
        if len(songs) < 2:  # one song has no other song's drums + bass to be the control
            raise DataError(f"{data_root}: the demo needs at least 2 songs held out from the bundled weights, found "
                            f"{len(songs)} (render more songs: data.synth.songs)")
        if len(songs) < count:  # said, not hidden: the demo's power argument assumes `count`
            note += f"; only {len(songs)} of the {count} songs the demo scores ({data_root} is not a render it can extend)"
            log(f"      {len(songs)} held-out songs, not {count}: {data_root} holds no more and is not a render it can extend")
        return data_root, songs[:count], note
    own = [i for i in range(int(synth.songs)) if song_id(i) in songs]  # unseen by id and fingerprint
    extra, i = [], int(synth.songs)
    while len(own) + len(extra) < count:
        if song_id(i) not in seen:  # an id the weights list is skipped, whatever its music
            extra.append(i)
        i += 1
    out = data_root.resolve().with_name(data_root.resolve().name + "-heldout")
    start = time.perf_counter()
    with atomic_dir(out) as staging:  # rendered afresh each time: a few seconds, never stale
        ids = synth_songs(staging, synth, own + extra, int(cfg.data.sample_rate), int(cfg.data.channels), progress=False)
        atomic_write_json(staging / SPLITS_FILE, {"train": [], "val": [], "test": ids})  # all held out, as listed
    log(f"      rendered {len(ids)} held-out songs into {out} ({len(own)} of them also in {data_root}) "
        f"in {time.perf_counter() - start:.1f} s")
    return out, ids, f"{note}; {len(extra)} rendered beyond the demo's own {synth.songs} songs"


def song_meta(data_root: Path, song: str) -> dict[str, Any]:
    return json.loads((data_root / song / "meta.json").read_text())


def song_stems(data_root: Path, song: str, names: Sequence[str], samples: int, sample_rate: int) -> dict[str, np.ndarray]:
    """The song's stems as mixed in its mix (gain-scaled), cut to ``samples``: [C, S] float32. A
    missing file or another sample rate is a one-line DataError naming the file."""
    gains = song_meta(data_root, song).get("gains") or {}  # a track without a gain has gain 1 (schema)
    out = {}
    for name in names:
        path = data_root / song / f"{name}.wav"
        if not path.is_file():
            raise DataError(f"{path}: missing")
        wave, rate = sf.read(path, dtype="float32", always_2d=True)
        if rate != sample_rate:
            raise DataError(f"{path}: {rate} Hz, the weights work at {sample_rate} Hz")
        out[name] = wave.T[:, :samples] * float(gains.get(name, DEFAULT_GAIN))
    return out


def generate_samples(ckpt: Path, data_root: Path, cfg: DictConfig, out: Path, log: Callable[[str], None],
                     seen: Mapping[str, list[str]] | None = None, songs: int = SONGS) -> DemoSamples:
    pipe = ComposerPipeline.from_checkpoint(ckpt)
    if pipe.sample_rate != int(cfg.data.sample_rate):
        raise DataError(f"{data_root}: rendered at {cfg.data.sample_rate} Hz, the bundled weights work at {pipe.sample_rate} Hz")
    data_root, candidates, held_out_note = held_out_render(data_root, cfg, seen, songs, log)
    tempi = {s: float(song_meta(data_root, s)["tags"]["tempo"]) for s in candidates}
    seconds = CompositionConfig().seconds
    n = round(seconds * pipe.sample_rate)
    settings = SamplerSettings.from_config(pipe.cfg.composer.sampler)
    gen = [t for t in pipe.tracks if t not in CONDITIONS]
    result = DemoSamples([], pipe.sample_rate, {"joint": list(pipe.tracks), "given_drums_bass": gen,
                                                "given_other_drums_bass": gen}, held_out_note=held_out_note)
    for song in candidates:
        meta = song_meta(data_root, song)
        other = controls.foreign_song(song, tempi, np.random.default_rng(0))  # the nearest tempo
        one = SongSamples(song, other, str(meta["caption"]), meta)
        start = time.perf_counter()
        for key, kept in (("joint", {}), ("given_drums_bass", song_stems(data_root, song, CONDITIONS, n, pipe.sample_rate)),
                          ("given_other_drums_bass", song_stems(data_root, other, CONDITIONS, n, pipe.sample_rate))):
            made = pipe.generate(one.prompt, kept, result.generated[key], seconds=seconds, seed=0, settings=settings)
            one.audio[key] = {t: kept[t] if t in kept else made[t] for t in pipe.tracks}
        log(f"      {song}: joint, given its drums + bass, given {other}'s, in {time.perf_counter() - start:.1f} s")
        result.songs.append(one)
    first = result.songs[0]
    notes = {"joint": ("Joint generation", f"All four tracks from the prompt of held-out song {first.song}."),
             "given_drums_bass": ("Given drums + bass", f"Instrument and melody generated over {first.song}'s own drums and bass."),
             "given_other_drums_bass": ("Control: given another song's drums + bass",
                                        f"The same request over {first.other_song}'s drums and bass (nearest tempo); "
                                        f"scored against {first.song}.")}
    for key, (title, note) in notes.items():
        _add(result, out, key, title, note, first.audio[key], result.generated[key])
    start = time.perf_counter()
    session = Session.create(out / "session", pipe, first.prompt, seconds=seconds, seed=0, settings=settings)
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
    result.sections.append(PageSection(key, title, note, {k: v for k, v in files.items() if k != "spectrogram"},
                                       files["spectrogram"], roles))
