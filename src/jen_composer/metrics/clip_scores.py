"""Every weight-free score of ONE clip, measured on its generated tracks only.

``ClipAudio`` is what both ``evaluate`` (checkpoint) and ``evaluate-audio`` (folders) hand to the
scorer: mono stems, the prompt, the song's labels and which tracks the system generated (the others
were given to it). ``clip_scores`` returns a flat dict; ``<score>/<track>`` keys are per generated
track and ``<score>`` keys their mean over tracks. A score that has nothing to measure is NaN
(reported as "-"), never 0. Kept tracks are only ever the reference, never the scored side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.data.mix import mix_stems
from jen_composer.metrics import coherence as coh
from jen_composer.metrics import fit

# per-track fit scores, averaged over the generated tracks into a column of the same name
FIT_SCORES = ("harmonic_chords", "harmonic_stems", "rhythm_drums", "rhythm_grid", "pitch_chords", "probe")
PitchFit = Callable[[np.ndarray, int, Sequence[Any]], float]  # (wave, sr, chords) -> chord-tone share


@dataclass
class ClipAudio:
    """One clip to score: mono float32 stems ``[S]`` at ``evaluation.coherence.sample_rate``."""

    id: str
    stems: dict[str, np.ndarray]
    text: str
    labels: dict[str, Any] = field(default_factory=dict)  # genre, key, tempo, chords, beats, programs
    generated: frozenset[str] = frozenset()  # tracks the system made; empty = all of them

    def made(self) -> list[str]:
        """The tracks that count as generated (all when ``generated`` is empty)."""
        return [t for t in self.stems if not self.generated or t in self.generated]

    def kept(self) -> list[str]:
        return [t for t in self.stems if t not in self.made()]


def song_labels(tags: Mapping[str, Any], labels: Mapping[str, Any]) -> dict[str, Any]:
    """A song's tags (genre, key, tempo, ...) and labels (chords, beats, programs) in one dict."""
    return {**tags, **labels}


def _mean_over_tracks(out: dict[str, float]) -> None:
    for name in FIT_SCORES:
        vals = [v for k, v in out.items() if k.startswith(name + "/") and np.isfinite(v)]
        if any(k.startswith(name + "/") for k in out):
            out[name] = float(np.mean(vals)) if vals else float("nan")


def fit_scores(clip: ClipAudio, cfg: EvaluationConfig, pitch: PitchFit | None = None) -> dict[str, float]:
    """Harmonic and rhythmic fit of each generated track against the labels and the kept stems."""
    c, f = cfg.coherence, cfg.fit
    sr, hop = c.sample_rate, c.hop_length
    made, kept = clip.made(), clip.kept()
    chords, beats = clip.labels.get("chords"), clip.labels.get("beats")
    kept_pitched = [clip.stems[t] for t in kept if t != c.drums_track]
    drums = clip.stems[c.drums_track] if c.drums_track in kept else None
    out: dict[str, float] = {}
    for t in made:
        wave = clip.stems[t]
        if beats:
            out[f"rhythm_grid/{t}"] = fit.rhythmic_fit_grid(wave, beats, sr, hop, c.onset_tolerance_seconds,
                                                            f.silence_db)
        if t == c.drums_track:
            continue
        if chords:
            out[f"harmonic_chords/{t}"] = fit.harmonic_fit_chords(wave, sr, chords, hop, f.silence_db)
            if pitch is not None and t in f.monophonic_tracks:
                out[f"pitch_chords/{t}"] = pitch(wave, sr, chords)
        if kept_pitched:
            out[f"harmonic_stems/{t}"] = fit.harmonic_fit_stems(wave, kept_pitched, sr, hop, f.silence_db,
                                                                f.context_seconds)
        if drums is not None:
            out[f"rhythm_drums/{t}"] = fit.rhythmic_fit_stems(wave, drums, sr, hop, c.onset_tolerance_seconds,
                                                              f.silence_db)
    return out


def coherence_scores(clip: ClipAudio, cfg: EvaluationConfig) -> dict[str, float]:
    """The older coherence columns, restricted so that a kept track is never the scored side."""
    c, f = cfg.coherence, cfg.fit
    sr, hop = c.sample_rate, c.hop_length
    made, kept = clip.made(), clip.kept()
    out: dict[str, float] = {}
    tempo = clip.labels.get("tempo")
    if tempo and made:  # the tempo of what was generated, not of the kept drums
        gen_mix = mix_stems([clip.stems[t] for t in made])
        if not fit.is_silent(gen_mix, hop, f.silence_db):
            out["tempo_accuracy"] = coh.tempo_adherence(gen_mix, sr, float(tempo), c.tempo_tolerance, hop)["hit"]
    others = [clip.stems[t] for t in made if t != c.drums_track]
    if c.drums_track in clip.stems and others:
        drums = clip.stems[c.drums_track]
        out["beat_sync"] = (float("nan") if fit.is_silent(drums, hop, f.silence_db)
                            else coh.beat_sync(drums, others, sr, c.onset_tolerance_seconds, hop))
    pitched = [t for t in clip.stems if t != c.drums_track and not fit.is_silent(clip.stems[t], hop, f.silence_db)]
    kept_p = [t for t in kept if t in pitched]
    made_p = [t for t in made if t in pitched]
    pairs = ([(g, k) for g in made_p for k in kept_p] if kept_p
             else [(a, b) for i, a in enumerate(made_p) for b in made_p[i + 1:]])
    if pairs:
        out["key_agreement"] = float(np.mean([coh.key_agreement(clip.stems[a], clip.stems[b], sr, hop)
                                              for a, b in pairs]))
        out["chroma_agreement"] = float(np.mean([coh.chroma_agreement(clip.stems[a], clip.stems[b], sr, hop)
                                                 for a, b in pairs]))
    if clip.labels.get("chords") and c.bass_track in made_p:  # never the given (or a silent) bass
        out["bass_chord_agreement"] = coh.bass_chord_agreement(clip.stems[c.bass_track], sr,
                                                               clip.labels["chords"], hop)
    return out


def clip_scores(clip: ClipAudio, cfg: EvaluationConfig, pitch: PitchFit | None = None,
                probe: Any | None = None) -> dict[str, float]:
    """Fit, coherence and (with a probe) prompt-adherence scores of one clip; see the module docstring."""
    out = {**fit_scores(clip, cfg, pitch), **coherence_scores(clip, cfg)}
    if probe is not None:
        sr = cfg.coherence.sample_rate
        for t in clip.made():
            out[f"probe/{t}"] = probe.accuracy(clip.stems[t], sr, clip.labels, t)
        mix = mix_stems(clip.stems)
        out["probe_mix"] = probe.accuracy(mix, sr, clip.labels, None)
    _mean_over_tracks(out)
    return out
