"""The one scoring path: ``evaluate`` (checkpoint) and ``evaluate-audio`` (folders) both end here.

API (everything reads ``EvaluationConfig``; nothing is hard-coded per caller)::

    scorer = Scorer(cfg, tracks, reference=real_clips)   # reference: list[ClipAudio] for FAD, or None
    per_clip = scorer.add(ClipAudio(id, stems, text, labels, generated))   # -> dict of clip scores
    row = scorer.result(name, task="conditional", seeds=[0])               # -> report.SystemResult

- fit (``clip_scores.fit_scores``): ``harmonic_chords``, ``harmonic_stems``, ``rhythm_drums``,
  ``rhythm_grid`` (+ ``pitch_chords`` with ``evaluation.fit.pitch_tracker=crepe``), each per generated
  track (``<score>/<track>``) and averaged; in ``SystemResult.coherence`` with the older columns.
- prompt adherence: real CLAP (``evaluation.clap``) per generated track and for the mix; with
  ``evaluation.probe.path`` set, the probe's accuracy goes to ``SystemResult.probe`` and the
  random-weight CLAP (meaningless numbers) is skipped.
- FAD per generated track and for the mix against ``reference`` (``evaluation.fad.*``; ``embedding``
  clap | mel | probe), with reference statistics cached in ``fad.reference_cache``.
Clip scores are NaN when there is nothing to measure and the means skip them (NaN if all are).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.core.errors import ConfigError
from jen_composer.data.mix import MIX, mix_stems
from jen_composer.metrics.clip_scores import ClipAudio, PitchFit, clip_scores
from jen_composer.metrics.fad import (
    EmbeddingStats,
    EmbedFn,
    clap_embedder,
    embed_all,
    fad_result,
    mel_embedder,
    reference_stats,
)
from jen_composer.metrics.report import SystemResult

FAD_EMBEDDINGS = ("clap", "mel", "probe")


def load_probe(cfg: EvaluationConfig) -> Any | None:
    """The probe named by ``evaluation.probe.path`` (checksum verified), or None when unset."""
    if not cfg.probe.path:
        return None
    from jen_composer.metrics.probe.model import Probe

    return Probe.load(cfg.probe.path)


def pitch_fit(cfg: EvaluationConfig) -> PitchFit | None:
    """The crepe chord-tone scorer when ``evaluation.fit.pitch_tracker=crepe``; None for chroma."""
    if cfg.fit.pitch_tracker == "chroma":
        return None
    if cfg.fit.pitch_tracker == "crepe":
        from jen_composer.metrics.pitch import crepe_chord_fit

        f = cfg.fit
        return lambda wave, sr, chords: crepe_chord_fit(wave, sr, chords, f.crepe_model, f.crepe_periodicity,
                                                        f.silence_db)
    raise ConfigError(f"evaluation.fit.pitch_tracker '{cfg.fit.pitch_tracker}': expected chroma or crepe")


def wants_clap(cfg: EvaluationConfig, probe: Any | None) -> bool:
    """Real CLAP is always the adherence column; the random-weight one only when there is no probe;
    ``evaluation.clap.backend=none`` turns CLAP off."""
    return cfg.clap.backend != "none" and (cfg.clap.backend != "random" or probe is None)


class Scorer:
    """Collects clips, then writes one ``SystemResult`` row (see the module docstring)."""

    def __init__(self, cfg: EvaluationConfig, tracks: Sequence[str], reference: Sequence[ClipAudio] | None = None,
                 clap: Any | None = None, probe: Any | None = None, reference_id: str = "") -> None:
        if cfg.fad.embedding not in FAD_EMBEDDINGS:
            raise ConfigError(f"evaluation.fad.embedding '{cfg.fad.embedding}': expected one of "
                              f"{', '.join(FAD_EMBEDDINGS)}")
        self.cfg, self.tracks = cfg, list(tracks)
        self.probe = probe if probe is not None else load_probe(cfg)
        if cfg.fad.embedding == "probe" and self.probe is None:
            raise ConfigError("evaluation.fad.embedding=probe needs evaluation.probe.path")
        self.pitch = pitch_fit(cfg)
        self.clap_scorer = None
        if wants_clap(cfg, self.probe) or (cfg.fad.embedding == "clap" and reference):
            from jen_composer.metrics.clap import require_clap_scorer

            self.clap_scorer = clap if clap is not None else require_clap_scorer(cfg.clap, "evaluation.fad.embedding=clap")
        self.clap = None
        if wants_clap(cfg, self.probe):
            from jen_composer.metrics.clap_score import MultiTrackClapScore

            self.clap = MultiTrackClapScore(self.clap_scorer, self.tracks, sample_rate=cfg.coherence.sample_rate)
        self.reference, self.reference_id = reference, reference_id
        self.per_clip: list[dict[str, float]] = []
        self.audio: dict[str, list[torch.Tensor]] = {t: [] for t in [*self.tracks, MIX]}

    def add(self, clip: ClipAudio) -> dict[str, float]:
        """Score one clip (all of ``tracks`` must be in ``clip.stems``) and keep it for the row."""
        missing = [t for t in self.tracks if t not in clip.stems]
        if missing:
            raise ValueError(f"clip {clip.id}: no stem for {missing}")
        scores = clip_scores(clip, self.cfg, self.pitch, self.probe)
        self.per_clip.append(scores)
        made = set(clip.made())
        stems = torch.from_numpy(np.stack([np.asarray(clip.stems[t], np.float32) for t in self.tracks]))
        if self.clap is not None:
            self.clap.update(stems[None], [clip.text], scored=torch.tensor([[t in made for t in self.tracks]]))
        for i, t in enumerate(self.tracks):
            if t in made:
                self.audio[t].append(stems[i])
        self.audio[MIX].append(mix_stems(stems))
        return scores

    def result(self, name: str, task: str = "", seeds: Sequence[int] = ()) -> SystemResult:
        """The row: means over clips (NaN-skipping) of every score, CLAP or probe, and FAD."""
        keys = sorted({k for c in self.per_clip for k in c})
        means = {k: _nanmean([c[k] for c in self.per_clip if k in c]) for k in keys}
        probe = {k.split("/", 1)[1]: v for k, v in means.items() if k.startswith("probe/")}
        if "probe_mix" in means:
            probe[MIX] = means["probe_mix"]
        coherence = {k: v for k, v in means.items() if not k.startswith("probe")}
        clap = {k: float(v) for k, v in self.clap.compute().items()} if self.clap is not None else {}
        fad = self._fad() if self.reference else {}
        return SystemResult(name=name, clips=len(self.per_clip), clap=clap, fad=fad, coherence=coherence,
                            probe=probe, seeds=[int(s) for s in seeds], task=task)

    def _embedder(self) -> tuple[EmbedFn, str]:
        cfg = self.cfg
        if cfg.fad.embedding == "clap":
            c = cfg.clap
            return clap_embedder(self.clap_scorer), f"clap:{c.backend}:{c.checkpoint}:{c.amodel}"
        if cfg.fad.embedding == "probe":
            return self.probe.embed, f"probe:{self.probe.sha256}"
        return mel_embedder(), "mel64"

    def _fad(self) -> dict[str, dict[str, Any]]:
        """FAD per generated track and for the mix against the reference clips' real stems."""
        cfg, sr = self.cfg, self.cfg.coherence.sample_rate
        assert self.reference is not None
        embed, embedder_id = self._embedder()
        ref = self.reference

        def clips(track: str) -> list[torch.Tensor]:
            if track == MIX:
                return [torch.from_numpy(mix_stems([c.stems[t] for t in self.tracks])) for c in ref]
            return [torch.from_numpy(np.asarray(c.stems[track], np.float32)) for c in ref]

        out: dict[str, dict[str, Any]] = {}
        for track, waves in self.audio.items():
            if not waves:
                continue
            if len(ref) < 2:  # a covariance needs two reference clips
                out[track] = {"fad": None, "clips": len(waves), "reference_clips": len(ref), "fad_inf": None}
                continue
            if cfg.fad.reference_cache and self.reference_id:
                stats = reference_stats(f"{self.reference_id}_{track}", lambda t=track: clips(t), embed, sr,
                                        embedder_id, cfg.fad.reference_cache, [self.reference_id])
            else:
                stats = EmbeddingStats.from_embeddings(embed_all(embed, clips(track), sr))
            out[track] = fad_result(embed_all(embed, waves, sr), stats, cfg.fad.min_clips, cfg.fad.fad_inf,
                                    cfg.fad.fad_inf_points, cfg.fad.fad_inf_min_fraction, cfg.seed)
        return out


def _nanmean(values: Sequence[float]) -> float:
    vals = [float(v) for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")
