"""`evaluate_checkpoint`: the paper's tables from a composer checkpoint, offline.

For each of `num_clips` songs of the split and each seed, the checkpoint generates stems for every
task (joint: all tracks from the prompt; conditional: instrument + melody given the song's own drums
+ bass; conditional_swapped: the same, given ANOTHER song's drums + bass (the next song of the split: a
control for a model that ignores its conditions); interactive: Algorithm 1 with a simulated producer who keeps the best-scoring new track each
round); with a mix-track checkpoint also separation (every stem from the song's mix) and arrangement
(instrument + melody given drums + bass and the mix). Every task becomes one row, scored by ``metrics.scoring.Scorer`` exactly as `evaluate-audio`
scores folders: adherence (CLAP or the probe) and fit scores on the generated tracks only, the mix,
and FAD against the same songs' real stems (or ``evaluation.fad_reference``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.core.config.options import EvalTask, choices
from jen_composer.core.errors import ConfigError, DataError
from jen_composer.data.audio import read_audio, resample
from jen_composer.data.index import list_song_dirs
from jen_composer.data.mix import MIX, mix_stems
from jen_composer.data.prompts import build_prompt
from jen_composer.data.schema import read_meta
from jen_composer.data.splits import resolve_splits
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.pipeline import ComposerPipeline
from jen_composer.inference.windows import check_seconds
from jen_composer.metrics.clap import build_clap_scorer, require_clap_scorer
from jen_composer.metrics.clip_scores import ClipAudio, song_labels
from jen_composer.metrics.evaluate_audio import folder_reference
from jen_composer.metrics.report import SystemResult, write_report
from jen_composer.metrics.scoring import Scorer, load_probe, wants_clap

TASKS = choices(EvalTask)
CONDITION_TRACKS = ("drums", "bass")


@dataclass
class Clip:
    song_id: str
    prompt: str
    stems: dict[str, np.ndarray]  # the real, gain-scaled stems [C, S]
    labels: dict  # the song's tags and labels (genre, key, tempo, chords, beats, ...)


def load_clips(cfg: DictConfig, split: str, count: int, seconds: float, sample_rate: int) -> list[Clip]:
    """The first `count` songs of `split` (sorted), cut to their first `seconds`, with canonical prompts."""
    root = Path(cfg.data.root)
    if not root.is_dir():
        raise DataError(f"data.root {root}: dataset folder not found (evaluate needs the songs' audio)")
    splits = resolve_splits(root, [d.name for d in list_song_dirs(root)], int(cfg.data.split_seed),
                            float(cfg.data.test_fraction), float(cfg.data.val_fraction))
    if split not in splits:
        raise ConfigError(f"evaluation.split: '{split}' is not one of {', '.join(splits)}")
    songs = sorted(splits[split])[:count]
    if not songs:
        raise DataError(f"{root}: the {split} split holds no songs")
    n = round(seconds * sample_rate)
    clips = []
    for song in songs:
        meta = read_meta(root / song, list(cfg.data.tracks))
        stems = {}
        for track in cfg.data.tracks:
            wave, sr = read_audio(root / song / f"{track}.wav", song, frames=n)  # refuses empty/NaN audio
            if sr != sample_rate:
                raise DataError(f"{root / song / (track + '.wav')}: {sr} Hz, the checkpoint works at {sample_rate} Hz")
            wave = np.pad(wave, ((0, 0), (0, max(0, n - wave.shape[-1]))))
            stems[track] = wave * float(meta.gain(track))
        clips.append(Clip(song, build_prompt(meta, cfg.data.prompt, None), stems, song_labels(meta.tags, meta.labels)))
    return clips


def mono_at(wave: np.ndarray, sample_rate: int, target: int) -> np.ndarray:
    """``[C, S]`` -> mono float32 ``[S']`` at the scorer's rate."""
    mono = np.asarray(wave, dtype=np.float32).reshape(-1, np.shape(wave)[-1]).mean(axis=0)
    return resample(mono[None], sample_rate, target)[0] if sample_rate != target else mono


class Evaluator:
    """Generates every task for every clip and seed, then scores them through ``metrics.scoring``."""

    def __init__(self, pipe: ComposerPipeline, cfg: DictConfig, log: Callable[[str], None] = print,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.pipe, self.cfg, self.log, self.progress = pipe, cfg, log, progress  # progress: each generation's steps
        self.ev: EvaluationConfig = OmegaConf.to_object(cfg.evaluation)  # type: ignore[assignment]
        self.probe = load_probe(self.ev)
        self.scorer = build_clap_scorer(self.ev.clap) if wants_clap(self.ev, self.probe) or self.ev.fad.embedding == "clap" else None
        self.settings = SamplerSettings.from_config(cfg.composer.sampler)
        self.partners: dict[str, Clip] = {}  # song id -> the clip whose drums + bass conditional_swapped uses

    def set_clips(self, clips: Sequence[Clip]) -> None:
        """Pair every clip with the next one of the list (a derangement) for `conditional_swapped`."""
        self.partners = {c.song_id: clips[(i + 1) % len(clips)] for i, c in enumerate(clips)}

    def generate_task(self, clip: Clip, task: str, seed: int, seconds: float) -> tuple[dict[str, np.ndarray], set[str]]:
        """All k stems of one task, and the set of tracks the model generated."""
        tracks = self.pipe.tracks
        gen = lambda kept, todo, s: self.pipe.generate(clip.prompt, kept, todo, seconds=seconds, seed=s,  # noqa: E731
                                                       settings=self.settings, progress=self.progress)
        if task == "joint":
            return gen({}, list(tracks), seed), set(tracks)
        if task in ("conditional", "conditional_swapped"):
            source = clip if task == "conditional" else self.partners.get(clip.song_id)
            if source is None or (task == "conditional_swapped" and source.song_id == clip.song_id):
                raise ConfigError("evaluation: conditional_swapped needs at least two clips (evaluation.num_clips >= 2)")
            kept = {t: source.stems[t] for t in tracks if t in CONDITION_TRACKS}
            todo = [t for t in tracks if t not in kept]
            return {**kept, **gen(kept, todo, seed)}, set(todo)
        if task == "interactive":
            return self._interactive(clip, seed, gen), set(tracks)
        if task in ("separation", "arrangement"):  # from the song's own mix: a composer with the mix track
            kept = {t: clip.stems[t] for t in tracks if t in CONDITION_TRACKS} if task == "arrangement" else {}
            todo = [t for t in tracks if t not in kept]
            return {**kept, **gen({**kept, MIX: mix_stems(clip.stems)}, todo, seed)}, set(todo)
        raise ConfigError(f"evaluation.tasks: unknown task '{task}'; choose from {', '.join(TASKS)}")

    def _adherence(self, clip: Clip, track: str, wave: np.ndarray) -> float:
        """How well one new take matches the prompt: the probe's accuracy, else CLAP's cosine."""
        sr = self.pipe.sample_rate
        if self.probe is not None:
            return float(self.probe.accuracy(mono_at(wave, sr, self.ev.coherence.sample_rate),
                                             self.ev.coherence.sample_rate, clip.labels, track))
        if self.scorer is None:
            self.scorer = require_clap_scorer(self.ev.clap, "the interactive task without a probe")
        text = self.scorer.embed_text([clip.prompt])
        return float(self.scorer.embed_audio(torch.from_numpy(np.asarray(wave))[None], sr) @ text.T)

    def _interactive(self, clip: Clip, seed: int, gen) -> dict[str, np.ndarray]:
        """Algorithm 1: generate all; each round keep the new track that best matches the prompt."""
        tracks = list(self.pipe.tracks)
        kept: dict[str, np.ndarray] = {}
        rounds = max(1, int(self.ev.interactive_rounds))
        for r in range(rounds):
            todo = [t for t in tracks if t not in kept]
            if not todo:
                break
            takes = gen(kept, todo, seed + 1000 * r)
            if r == rounds - 1 or len(todo) == 1:
                kept.update(takes)
                break
            scores = {t: self._adherence(clip, t, w) for t, w in takes.items()}
            best = max(scores, key=scores.get)
            kept[best] = takes[best]
        return {t: kept[t] for t in tracks}

    def _audio(self, clip_id: str, text: str, labels: dict, stems: dict[str, np.ndarray],
               made: set[str]) -> ClipAudio:
        sr, target = self.pipe.sample_rate, self.ev.coherence.sample_rate
        return ClipAudio(clip_id, {t: mono_at(w, sr, target) for t, w in stems.items()}, text, labels,
                         frozenset(made))

    def reference(self, clips: Sequence[Clip]) -> tuple[list[ClipAudio], str]:
        """FAD's reference: ``evaluation.fad_reference``'s songs, else the evaluated songs' real stems."""
        if self.ev.fad_reference:
            return folder_reference(Path(self.ev.fad_reference), self.pipe.tracks, self.ev)
        ref = [self._audio(c.song_id, c.prompt, c.labels, c.stems, set(self.pipe.tracks)) for c in clips]
        return ref, ""

    def run(self, tasks: Sequence[str], clips: Sequence[Clip], seeds: Sequence[int], seconds: float,
            name_prefix: str = "") -> list[SystemResult]:
        tracks = self.pipe.tracks
        reference, ref_id = self.reference(clips)
        self.set_clips(clips)
        rows = []
        for task in tasks:
            scoring = Scorer(self.ev, tracks, reference=reference, clap=self.scorer, probe=self.probe,
                             reference_id=ref_id)
            for clip in clips:
                for seed in seeds:
                    self.log(f"  {task}: {clip.song_id} seed {seed}")
                    stems, made = self.generate_task(clip, task, int(seed), seconds)
                    scoring.add(self._audio(f"{clip.song_id}/{seed}", clip.prompt, clip.labels, stems, made))
            rows.append(scoring.result(f"{name_prefix}{task}", task=task, seeds=seeds))
        return rows


def evaluate_checkpoint(checkpoint: str | Path, out_dir: Path, overrides: DictConfig | None = None,
                        tasks: Sequence[str] | None = None, name_prefix: str = "",
                        log: Callable[[str], None] = print,
                        progress: Callable[[int, int], None] | None = None,
                        autoencoder: str | None = None) -> tuple[list[SystemResult], dict[str, Path]]:
    """Generate, score and write `results.json`, `results.md` and per-track bar charts into `out_dir`.
    ``autoencoder``: decode through this export (a re-export of the checkpoint's own autoencoder with
    other decoding settings: same checksum) instead of the one the checkpoint names."""
    pipe = ComposerPipeline.from_checkpoint(checkpoint, autoencoder=autoencoder, same_encoding=True)
    cfg = pipe.cfg
    if overrides is not None:
        cfg.evaluation = overrides
    e = cfg.evaluation
    check_seconds(e.clip_seconds, cfg.composition.max_seconds, "evaluation.clip_seconds")
    clips = load_clips(cfg, str(e.split), int(e.num_clips), float(e.clip_seconds), pipe.sample_rate)
    rows = Evaluator(pipe, cfg, log, progress).run(list(tasks or e.tasks), clips, list(e.seeds), float(e.clip_seconds), name_prefix)
    paths = write_report(rows, out_dir, pipe.tracks, title=f"Evaluation of {checkpoint}")
    return rows, paths
