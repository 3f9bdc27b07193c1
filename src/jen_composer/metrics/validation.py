"""`validate-scores`: every score on held-out real songs and on known-wrong controls, with 95% intervals.

For each held-out song and two scenarios (``conditional``: drums + bass kept, instrument + melody
"generated"; ``joint``: every track "generated"), the real stems are scored, then the same clip with
its generated tracks replaced by each control of ``metrics.controls`` (half a beat late, a tritone
up, another song's pitched stems at the same tempo, spectrum-shaped noise). A score separates real
from a control when the paired bootstrap 95% interval of mean(real - control) over songs excludes 0
(for FAD, lower is better: control - real). Kept tracks stay real in every control.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from jen_composer.core.config.data import DataConfig
from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.core.io import atomic_write_json
from jen_composer.data.mix import mix_stems
from jen_composer.metrics import controls
from jen_composer.metrics.benchmark import Song, load_song, split_songs
from jen_composer.metrics.clip_scores import ClipAudio, clip_scores
from jen_composer.metrics.fad import EmbeddingStats, embed_all, frechet_distance, mel_embedder
from jen_composer.metrics.scoring import load_probe, pitch_fit
from jen_composer.metrics.validation_report import write_validation

CONTROLS = ("half_beat", "tritone", "foreign", "noise")
KEPT = {"conditional": ("drums", "bass"), "joint": ()}  # scenario -> kept tracks
REFERENCE_SONGS = 60  # training songs whose real stems are the FAD reference


def control_audio(song: Song, other: Song, control: str, cfg: EvaluationConfig, soundfont: str,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The control version of every track of ``song`` (drums stay real for pitch controls)."""
    sr, drums = cfg.coherence.sample_rate, cfg.coherence.drums_track
    out = {}
    for t, wave in song.stems.items():
        if control == "half_beat":
            out[t] = controls.half_beat(wave, float(song.labels["tempo"]), sr)
        elif control == "noise":
            out[t] = controls.shaped_noise(wave, sr, rng)
        elif t == drums:
            out[t] = wave
        elif control == "tritone":
            out[t] = controls.tritone(wave, sr, song.folder / "midi" / f"{t}.mid", soundfont, song.gains[t])
        else:  # foreign: the other song's stem, cut or zero-padded to this song's length
            o = other.stems[t][: len(wave)]
            out[t] = np.pad(o, (0, len(wave) - len(o)))
    return out


def _bootstrap(diffs: np.ndarray, samples: int, rng: np.random.Generator) -> tuple[float, float]:
    idx = rng.integers(0, len(diffs), size=(samples, len(diffs)))
    means = diffs[idx].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def paired_rows(scores: dict[str, list[dict[str, float]]], samples: int, seed: int) -> list[dict[str, Any]]:
    """One row per score: real mean, and per control its mean, mean(real - control) and 95% interval."""
    rng = np.random.default_rng(seed)
    keys = sorted({k for s in scores["real"] for k in s if "/" not in k})
    rows = []
    for key in keys:
        real = np.array([s.get(key, np.nan) for s in scores["real"]])
        row: dict[str, Any] = {"score": key, "real": float(np.nanmean(real)) if np.isfinite(real).any() else None,
                               "songs": int(np.isfinite(real).sum())}
        for control in CONTROLS:
            ctrl = np.array([s.get(key, np.nan) for s in scores[control]])
            both = np.isfinite(real) & np.isfinite(ctrl)
            if both.sum() < 2:
                row[control] = {"mean": None, "diff": None, "low": None, "high": None, "pairs": int(both.sum())}
                continue
            d = real[both] - ctrl[both]
            lo, hi = _bootstrap(d, samples, rng)
            row[control] = {"mean": float(ctrl[both].mean()), "diff": float(d.mean()), "low": lo, "high": hi,
                            "pairs": int(both.sum())}
        rows.append(row)
    return rows


def fad_rows(emb: dict[str, list[np.ndarray]], ref: EmbeddingStats, samples: int, seed: int,
             name: str) -> dict[str, Any]:
    """FAD of the real set and of each control set against ``ref``, bootstrapped over songs (paired)."""
    rng = np.random.default_rng(seed)
    n = len(emb["real"])
    fad = lambda x, i: frechet_distance(EmbeddingStats.from_embeddings(np.stack([x[j] for j in i])), ref)  # noqa: E731
    every = np.arange(n)
    row: dict[str, Any] = {"score": name, "real": fad(emb["real"], every), "songs": n}
    boots = [rng.integers(0, n, size=n) for _ in range(samples)]
    for control in CONTROLS:
        d = np.array([fad(emb[control], i) - fad(emb["real"], i) for i in boots])
        row[control] = {"mean": fad(emb[control], every), "diff": float(d.mean()),
                        "low": float(np.percentile(d, 2.5)), "high": float(np.percentile(d, 97.5)), "pairs": n}
    return row


def validate_scores(root: Path, out: Path, ev: EvaluationConfig, data: DataConfig, songs: int = 0,
                    bootstrap: int = 2000) -> dict[str, Path]:
    """Score held-out songs and their controls; write ``validation.md`` and ``validation.json`` in ``out``."""
    start = time.time()
    sr, tracks = ev.coherence.sample_rate, list(data.tracks)
    split = (data.split_seed, data.test_fraction, data.val_fraction)
    test_ids = split_songs(root, "test", *split)
    test_ids = test_ids[:songs] if songs > 0 else test_ids
    all_ids = sorted({*split_songs(root, "train", *split), *split_songs(root, "val", *split), *test_ids})
    probe, pitch = load_probe(ev), pitch_fit(ev)
    embed = probe.embed if probe is not None else mel_embedder()
    tempi = {s: float(load_song(root, s, tracks[:1], sr).labels["tempo"]) for s in all_ids}
    rng = np.random.default_rng(ev.seed)
    names = ["real", *CONTROLS]
    scores = {sc: {c: [] for c in names} for sc in KEPT}
    emb = {sc: {c: [] for c in names} for sc in KEPT}
    for song_id in tqdm(test_ids, desc="validate", unit="song"):
        song = load_song(root, song_id, tracks, sr)
        other = load_song(root, controls.foreign_song(song_id, tempi, rng), tracks, sr)
        audio = {"real": song.stems, **{c: control_audio(song, other, c, ev, data.synth.soundfont, rng)
                                       for c in CONTROLS}}
        for scenario, kept in KEPT.items():
            made = frozenset(t for t in tracks if t not in kept)
            for c in names:
                stems = {t: (audio[c][t] if t in made else song.stems[t]) for t in tracks}
                clip = ClipAudio(song_id, stems, song.text, song.labels, made)
                scores[scenario][c].append(clip_scores(clip, ev, pitch, probe))
                mix = mix_stems(stems)
                emb[scenario][c].append(embed_all(embed, [_t(mix)], sr)[0].numpy())
    ref_ids = split_songs(root, "train", *split)[:REFERENCE_SONGS]
    ref_mix = [_t(mix_stems(load_song(root, s, tracks, sr).stems)) for s in ref_ids]
    ref = EmbeddingStats.from_embeddings(embed_all(embed, ref_mix, sr))
    fad_name = f"fad_mix ({'probe' if probe is not None else 'mel'} embedding)"
    result = {sc: [*paired_rows(scores[sc], bootstrap, ev.seed), fad_rows(emb[sc], ref, bootstrap, ev.seed, fad_name)]
              for sc in KEPT}
    meta = {"data": str(root), "songs": len(test_ids), "reference_songs": len(ref_ids), "bootstrap": bootstrap,
            "probe": probe.sha256 if probe is not None else None, "pitch_tracker": ev.fit.pitch_tracker,
            "seconds": round(time.time() - start, 1), "kept": {k: list(v) for k, v in KEPT.items()}}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "validation.json", {"meta": meta, "rows": result,
                                                "per_song": {sc: {c: v for c, v in d.items()} for sc, d in scores.items()}})
    return {"markdown": write_validation(out / "validation.md", result, meta), "json": out / "validation.json"}


def _t(wave: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(np.asarray(wave, dtype=np.float32))

