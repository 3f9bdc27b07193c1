"""`evaluate_checkpoint`: the paper's tables from a composer checkpoint, offline.

For each of `num_clips` songs of the split and each seed, the checkpoint generates stems for every
task (joint: all tracks from the prompt; conditional: instrument + melody given the song's own drums
+ bass; interactive: Algorithm 1 with a simulated producer who keeps the best-scoring new track each
round). Every task becomes one row: CLAP per generated track and for the mix (the sum of the tracks),
FAD per track and mix against the same songs' real stems, and weight-free coherence metrics.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig

from jen_composer.core.errors import ConfigError, DataError
from jen_composer.data.audio import read_audio
from jen_composer.data.index import list_song_dirs
from jen_composer.data.mix import MIX, mix_stems
from jen_composer.data.prompts import build_prompt
from jen_composer.data.schema import read_meta
from jen_composer.data.splits import resolve_splits
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.pipeline import ComposerPipeline
from jen_composer.metrics.clap import require_clap_scorer
from jen_composer.metrics.clap_score import MultiTrackClapScore
from jen_composer.metrics.coherence import bass_chord_agreement, beat_sync, tempo_adherence
from jen_composer.metrics.fad import EmbeddingStats, clap_embedder, embed_all, fad_result
from jen_composer.metrics.report import SystemResult, write_report

TASKS = ("joint", "conditional", "interactive")
CONDITION_TRACKS = ("drums", "bass")


@dataclass
class Clip:
    song_id: str
    prompt: str
    stems: dict[str, np.ndarray]  # the real, gain-scaled stems [C, S]
    labels: dict


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
        raw = json.loads((root / song / "meta.json").read_text())
        clips.append(Clip(song, build_prompt(meta, cfg.data.prompt, None), stems, raw.get("labels", {})))
    return clips


class Evaluator:
    """Generates every task for every clip and seed, then scores them."""

    def __init__(self, pipe: ComposerPipeline, cfg: DictConfig, log: Callable[[str], None] = print) -> None:
        self.pipe, self.cfg, self.log = pipe, cfg, log
        self.scorer = require_clap_scorer(cfg.evaluation.clap, "evaluate")
        self.settings = SamplerSettings.from_config(cfg.composer.sampler)

    def _generate(self, clip: Clip, task: str, seed: int, seconds: float) -> tuple[dict[str, np.ndarray], set[str]]:
        """All k stems of one task, and the set of tracks the model generated."""
        tracks = self.pipe.tracks
        gen = lambda kept, todo, s: self.pipe.generate(clip.prompt, kept, todo, seconds=seconds, seed=s, settings=self.settings)  # noqa: E731
        if task == "joint":
            return gen({}, list(tracks), seed), set(tracks)
        if task == "conditional":
            kept = {t: clip.stems[t] for t in tracks if t in CONDITION_TRACKS}
            todo = [t for t in tracks if t not in kept]
            return {**kept, **gen(kept, todo, seed)}, set(todo)
        if task == "interactive":
            return self._interactive(clip, seed, gen), set(tracks)
        raise ConfigError(f"evaluation.tasks: unknown task '{task}'; choose from {', '.join(TASKS)}")

    def _interactive(self, clip: Clip, seed: int, gen) -> dict[str, np.ndarray]:
        """Algorithm 1: generate all; each round keep the new track that best matches the prompt."""
        tracks = list(self.pipe.tracks)
        kept: dict[str, np.ndarray] = {}
        rounds = max(1, int(self.cfg.evaluation.interactive_rounds))
        text = self.scorer.embed_text([clip.prompt])
        for r in range(rounds):
            todo = [t for t in tracks if t not in kept]
            if not todo:
                break
            takes = gen(kept, todo, seed + 1000 * r)
            if r == rounds - 1 or len(todo) == 1:
                kept.update(takes)
                break
            scores = {t: float(self.scorer.embed_audio(torch.from_numpy(w)[None], self.pipe.sample_rate) @ text.T)
                      for t, w in takes.items()}
            best = max(scores, key=scores.get)
            kept[best] = takes[best]
        return {t: kept[t] for t in tracks}

    def run(self, tasks: Sequence[str], clips: Sequence[Clip], seeds: Sequence[int], seconds: float,
            name_prefix: str = "") -> list[SystemResult]:
        tracks, sr = self.pipe.tracks, self.pipe.sample_rate
        embed = clap_embedder(self.scorer)
        to_t = lambda w: torch.from_numpy(np.asarray(w)).mean(0)  # noqa: E731  (mono, 1-D)
        reference: dict[str, EmbeddingStats] = {}
        if len(clips) >= 2:  # a covariance needs two clips; with fewer, FAD is reported as null
            reference = {t: EmbeddingStats.from_embeddings(embed_all(embed, [to_t(c.stems[t]) for c in clips], sr))
                         for t in tracks}
            reference[MIX] = EmbeddingStats.from_embeddings(
                embed_all(embed, [to_t(mix_stems(c.stems)) for c in clips], sr))
        rows = []
        for task in tasks:
            metric = MultiTrackClapScore(self.scorer, tracks, sr)
            generated: dict[str, list[torch.Tensor]] = {t: [] for t in [*tracks, MIX]}
            coherence: dict[str, list[float]] = {"beat_sync": [], "bass_chord_agreement": [], "tempo_accuracy": []}
            for clip in clips:
                for seed in seeds:
                    self.log(f"  {task}: {clip.song_id} seed {seed}")
                    stems, made = self._generate(clip, task, int(seed), seconds)
                    batch = torch.stack([torch.from_numpy(np.asarray(stems[t], np.float32)) for t in tracks])[None]
                    metric.update(batch, [clip.prompt], torch.tensor([[t in made for t in tracks]]))
                    for t in made:
                        generated[t].append(to_t(stems[t]))
                    generated[MIX].append(to_t(mix_stems(stems)))
                    mono = {t: np.asarray(stems[t]).mean(0) for t in tracks}
                    if "drums" in mono:
                        coherence["beat_sync"].append(beat_sync(mono["drums"], [mono[t] for t in tracks if t != "drums"], sr))
                    if "bass" in mono and clip.labels.get("chords"):
                        coherence["bass_chord_agreement"].append(bass_chord_agreement(mono["bass"], sr, clip.labels["chords"]))
                    if clip.labels.get("tempo"):
                        mix = sum(mono.values())
                        coherence["tempo_accuracy"].append(tempo_adherence(mix, sr, float(clip.labels["tempo"]))["hit"])
            fad = {t: fad_result(embed_all(embed, waves, sr), reference[t]) if t in reference
                   else {"fad": None, "clips": len(waves), "reference_clips": len(clips), "fad_inf": None}
                   for t, waves in generated.items() if waves}
            clap = {k: float(v) for k, v in metric.compute().items()}
            coh = {k: float(np.nanmean(v)) if v else float("nan") for k, v in coherence.items()}
            rows.append(SystemResult(name=f"{name_prefix}{task}", clips=len(clips) * len(seeds), clap=clap, fad=fad,
                                     coherence=coh, seeds=[int(s) for s in seeds], task=task))
        return rows


def evaluate_checkpoint(checkpoint: str | Path, out_dir: Path, overrides: DictConfig | None = None,
                        tasks: Sequence[str] | None = None, name_prefix: str = "",
                        log: Callable[[str], None] = print) -> tuple[list[SystemResult], dict[str, Path]]:
    """Generate, score and write `results.json`, `results.md` and per-track bar charts into `out_dir`."""
    pipe = ComposerPipeline.from_checkpoint(checkpoint)
    cfg = pipe.cfg
    if overrides is not None:
        cfg.evaluation = overrides
    e = cfg.evaluation
    clips = load_clips(cfg, str(e.split), int(e.num_clips), float(e.clip_seconds), pipe.sample_rate)
    rows = Evaluator(pipe, cfg, log).run(list(tasks or e.tasks), clips, list(e.seeds), float(e.clip_seconds), name_prefix)
    paths = write_report(rows, out_dir, pipe.tracks, title=f"Evaluation of {checkpoint}")
    return rows, paths
