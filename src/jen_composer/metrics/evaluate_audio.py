"""Score any folder of generated audio (ours or a baseline's) through the one scoring path.

This is the paper's Table 1 protocol: per-track adherence (CLAP, or the offline probe) on the
generated tracks (mixes split by Demucs when a system only makes mixes) and on the mix (the sum of
the tracks), FAD against a reference folder, and the weight-free fit and coherence scores
(metrics/scoring.py does the scoring; this module only reads folders).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.core.errors import DataError
from jen_composer.metrics.audio_folder import (
    Clip,
    PromptInfo,
    discover_clips,
    labels_from_meta,
    load_prompts,
    load_stems,
)
from jen_composer.metrics.clap import ClapScorer, build_clap_scorer
from jen_composer.metrics.clip_scores import ClipAudio
from jen_composer.metrics.report import SystemResult
from jen_composer.metrics.scoring import Scorer, load_probe, wants_clap
from jen_composer.metrics.separation import MixSeparator


def folder_clip(clip: Clip, info: PromptInfo | None, tracks: Sequence[str], cfg: EvaluationConfig,
                separator: MixSeparator | None = None) -> ClipAudio:
    """A folder clip as the scorer's ``ClipAudio``: prompt entry labels win over ``meta.json``'s."""
    labels = labels_from_meta(clip, list(tracks))
    if info is not None:
        labels.update({k: v for k, v in (("tempo", info.tempo), ("chords", info.chords)) if v is not None})
    kept = set(info.kept) if info is not None else set()
    unknown = kept - set(tracks)
    if unknown:
        raise DataError(f"prompt entry '{clip.id}': kept track(s) {sorted(unknown)} are not among {list(tracks)}")
    text = info.text if info is not None else ""
    stems = load_stems(clip, tracks, cfg.coherence.sample_rate, separator or cfg.separator, text)
    return ClipAudio(id=clip.id, stems=stems,
                     text=text, labels=labels,
                     generated=frozenset(t for t in tracks if t not in kept))


def _fingerprint(folder: Path, clips: Sequence[Clip]) -> str:
    files = [p for c in clips for p in ([*c.stems.values()] or [c.mix])]
    rows = [f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files if p is not None]
    return hashlib.sha256("\n".join([str(folder.resolve()), *rows]).encode()).hexdigest()[:16]


def folder_reference(folder: Path, tracks: Sequence[str], cfg: EvaluationConfig) -> tuple[list[ClipAudio], str]:
    """Every clip of a reference song folder, and an id that changes whenever one of its files does."""
    found = discover_clips(folder, tracks)
    return [folder_clip(c, None, tracks, cfg) for c in found], _fingerprint(folder, found)


def evaluate_audio_folder(folder: Path, prompts_file: Path, cfg: EvaluationConfig, tracks: Sequence[str],
                          name: str = "", reference: Path | None = None, scorer: ClapScorer | None = None,
                          progress: bool = True, separator: MixSeparator | None = None) -> SystemResult:
    """One ``SystemResult`` for every clip in ``folder`` (see audio_folder for the layouts).

    ``reference`` (default: ``evaluation.fad_reference``) is a song folder whose stems are FAD's reference.
    Mix-only clips are split by ``separator`` when given, else by Demucs (``evaluation.separator``);
    the result's ``notes`` say which.
    """
    tracks = list(tracks)
    clips = discover_clips(folder, tracks)
    prompts = load_prompts(prompts_file)
    missing = [c.id for c in clips if c.id not in prompts]
    if missing:
        raise DataError(f"{prompts_file}: no prompt for clip(s) {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    mix_only = sum(1 for c in clips if not c.stems)
    if mix_only and separator is None:
        from jen_composer.metrics.separation import ensure_separator

        ensure_separator(cfg.separator)
    reference = reference if reference is not None else (Path(cfg.fad_reference) if cfg.fad_reference else None)
    ref_clips, ref_id = folder_reference(reference, tracks, cfg) if reference is not None else (None, "")
    probe = load_probe(cfg)
    if scorer is None and (wants_clap(cfg, probe) or (cfg.fad.embedding == "clap" and ref_clips)):
        scorer = build_clap_scorer(cfg.clap)
    scoring = Scorer(cfg, tracks, reference=ref_clips, clap=scorer, probe=probe, reference_id=ref_id)
    for clip in tqdm(clips, desc=f"scoring {name or folder.name}", disable=not progress):
        scoring.add(folder_clip(clip, prompts[clip.id], tracks, cfg, separator))
    result = scoring.result(name or folder.name, seeds=list(cfg.seeds))
    if mix_only:
        from jen_composer.metrics.separation import demucs_name

        result.notes = f"{mix_only} mix-only clip(s) split into tracks by {separator.name if separator else demucs_name(cfg.separator)}"
    return result
