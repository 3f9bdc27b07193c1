"""Score any folder of generated audio (ours or a baseline's): CLAP, FAD and coherence per clip.

This is the paper's Table 1 protocol: per-track CLAP (mixes split by Demucs when a system only
makes mixes), Mixed CLAP on the sum of the tracks, plus FAD against a reference folder and the
weight-free coherence metrics.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.core.errors import DataError
from jen_composer.data.mix import MIX, mix_stems
from jen_composer.metrics import coherence as coh
from jen_composer.metrics.audio_folder import (
    Clip,
    PromptInfo,
    discover_clips,
    labels_from_meta,
    load_prompts,
    load_stems,
)
from jen_composer.metrics.clap import ClapScorer, require_clap_scorer
from jen_composer.metrics.clap_score import MultiTrackClapScore
from jen_composer.metrics.fad import (
    EmbedFn,
    clap_embedder,
    embed_all,
    fad_result,
    mel_embedder,
    reference_stats,
)
from jen_composer.metrics.report import SystemResult

HARMONIC_SKIP = ("drums",)  # tracks without pitch content are left out of chroma/key agreement


def clip_coherence(stems: dict[str, np.ndarray], prompt: PromptInfo, chords: Sequence[Any] | None,
                   cfg: EvaluationConfig) -> dict[str, float]:
    """Coherence metrics of one clip (keys as in report.COHERENCE_COLUMNS; missing = not measurable)."""
    c, sr = cfg.coherence, cfg.coherence.sample_rate
    out: dict[str, float] = {}
    mix = mix_stems(stems)
    if prompt.tempo:
        out["tempo_accuracy"] = coh.tempo_adherence(mix, sr, prompt.tempo, c.tempo_tolerance, c.hop_length)["hit"]
    others = [w for t, w in stems.items() if t != c.drums_track]
    if c.drums_track in stems and others:
        out["beat_sync"] = coh.beat_sync(stems[c.drums_track], others, sr, c.onset_tolerance_seconds, c.hop_length)
    pitched = [t for t in stems if t not in HARMONIC_SKIP and t != c.drums_track]
    kept = [t for t in prompt.kept if t in pitched]
    pairs = ([(g, k) for g in pitched if g not in kept for k in kept] if kept
             else [(a, b) for i, a in enumerate(pitched) for b in pitched[i + 1:]])
    if pairs:
        out["key_agreement"] = float(np.mean([coh.key_agreement(stems[a], stems[b], sr, c.hop_length)
                                              for a, b in pairs]))
        out["chroma_agreement"] = float(np.mean([coh.chroma_agreement(stems[a], stems[b], sr, c.hop_length)
                                                 for a, b in pairs]))
    if chords and c.bass_track in stems:
        out["bass_chord_agreement"] = coh.bass_chord_agreement(stems[c.bass_track], sr, chords, c.hop_length)
    return out


def _embedder(cfg: EvaluationConfig, scorer: ClapScorer | None) -> tuple[EmbedFn, str]:
    if cfg.fad.embedding == "clap":
        assert scorer is not None
        return clap_embedder(scorer), f"clap:{cfg.clap.backend}:{cfg.clap.checkpoint}:{cfg.clap.amodel}"
    if cfg.fad.embedding == "mel":
        return mel_embedder(), "mel64"
    raise DataError(f"evaluation.fad.embedding '{cfg.fad.embedding}': expected clap or mel")


def _fingerprint(clips: Sequence[Clip]) -> list[str]:
    files = [p for c in clips for p in ([*c.stems.values()] or [c.mix])]
    return [f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files if p is not None]


def evaluate_audio_folder(folder: Path, prompts_file: Path, cfg: EvaluationConfig, tracks: Sequence[str],
                          name: str = "", reference: Path | None = None, scorer: ClapScorer | None = None,
                          progress: bool = True) -> SystemResult:
    """One ``SystemResult`` for every clip in ``folder`` (see audio_folder for the layouts)."""
    tracks = list(tracks)
    clips = discover_clips(folder, tracks)
    prompts = load_prompts(prompts_file)
    missing = [c.id for c in clips if c.id not in prompts]
    if missing:
        raise DataError(f"{prompts_file}: no prompt for clip(s) {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    if any(not c.stems for c in clips):
        from jen_composer.metrics.separation import ensure_separator

        ensure_separator(cfg.separator)
    sr = cfg.coherence.sample_rate
    scorer = scorer if scorer is not None else require_clap_scorer(cfg.clap, "eval audio")
    clap = MultiTrackClapScore(scorer, tracks, sample_rate=sr)
    per_clip: list[dict[str, float]] = []
    gen_audio: dict[str, list[torch.Tensor]] = {t: [] for t in [*tracks, MIX]}
    for clip in tqdm(clips, desc=f"scoring {name or folder.name}", disable=not progress):
        info = prompts[clip.id]
        stems = load_stems(clip, tracks, sr, cfg.separator)
        stem_tensor = torch.from_numpy(np.stack([stems[t] for t in tracks]))[None]  # [1, k, S]
        scored = torch.tensor([[t not in info.kept for t in tracks]])
        clap.update(stem_tensor, [info.text], scored=scored)
        for i, t in enumerate(tracks):
            gen_audio[t].append(stem_tensor[0, i])
        gen_audio[MIX].append(mix_stems(stem_tensor[0]))
        labels = labels_from_meta(clip, tracks)
        chords = info.chords if info.chords is not None else labels.get("chords")
        per_clip.append(clip_coherence(stems, info, chords, cfg))
    scores = {k: float(v) for k, v in clap.compute().items()}
    coherence = {k: float(np.nanmean([c[k] for c in per_clip if k in c]))
                 for k in sorted({k for c in per_clip for k in c})}
    fad = _fad(gen_audio, reference, cfg, tracks, scorer) if reference is not None else {}
    return SystemResult(name=name or folder.name, clips=len(clips), clap=scores, fad=fad, coherence=coherence,
                        seeds=list(cfg.seeds))


def _fad(gen_audio: dict[str, list[torch.Tensor]], reference: Path, cfg: EvaluationConfig,
         tracks: list[str], scorer: ClapScorer) -> dict[str, dict[str, Any]]:
    """FAD per track and for the mix against ``reference`` (a song folder in the same layout)."""
    sr = cfg.coherence.sample_rate
    embed, embedder_id = _embedder(cfg, scorer)
    ref_clips = discover_clips(reference, tracks)
    cache = cfg.fad.reference_cache or None
    key = hashlib.sha256(str(reference.resolve()).encode()).hexdigest()[:8]
    ref_cache: dict[str, list[torch.Tensor]] = {}

    def ref_audio(track: str) -> list[torch.Tensor]:
        if not ref_cache:  # load every reference clip once, on the first cache miss
            for t in [*tracks, MIX]:
                ref_cache[t] = []
            for c in ref_clips:
                stems = load_stems(c, tracks, sr, cfg.separator)
                for t in tracks:
                    ref_cache[t].append(torch.from_numpy(stems[t]))
                ref_cache[MIX].append(torch.from_numpy(mix_stems(stems)))
        return ref_cache[track]

    out = {}
    for track in [*tracks, MIX]:
        stats = reference_stats(f"{key}_{track}", lambda t=track: ref_audio(t), embed, sr, embedder_id,
                                cache, _fingerprint(ref_clips))
        gen = embed_all(embed, gen_audio[track], sr)
        out[track] = fad_result(gen, stats, cfg.fad.min_clips, cfg.fad.fad_inf, cfg.fad.fad_inf_points,
                                cfg.fad.fad_inf_min_fraction, cfg.seed)
    return out
