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
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from jen_composer.core.config.data import DataConfig
from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.core.io import atomic_write_json
from jen_composer.data.index import list_song_dirs
from jen_composer.data.mix import mix_stems
from jen_composer.metrics import controls
from jen_composer.metrics.benchmark import Song, load_song, song_labels_of, split_songs
from jen_composer.metrics.clip_scores import ClipAudio, clip_scores
from jen_composer.metrics.fad import EmbeddingStats, embed_all, frechet_distance, mel_embedder
from jen_composer.metrics.scoring import load_probe, pitch_fit
from jen_composer.metrics.validation_report import validity_record, write_validation

CONTROLS = controls.CONTROLS
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


def paired_rows(scores: dict[str, list[dict[str, float]]], samples: int, seed: int,
                per_track: bool = False) -> list[dict[str, Any]]:
    """One row per score: real mean, and per control its mean, mean(real - control) and 95% interval.
    With ``per_track`` the rows are the per-track scores instead (``rhythm_grid/instrument``): a score
    valid on the tracks pooled may still have nothing to measure on one of them."""
    rng = np.random.default_rng(seed)
    keys = sorted({k for s in scores["real"] for k in s if ("/" in k) == per_track})
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
    """FAD of the real set and of each control set against ``ref``, bootstrapped over songs (paired;
    at most 500 resamples: each costs a matrix square root per set)."""
    rng = np.random.default_rng(seed)
    n = len(emb["real"])
    sets = {c: np.stack(v) for c, v in emb.items()}
    fad = lambda c, i: frechet_distance(EmbeddingStats.from_embeddings(sets[c][i]), ref)  # noqa: E731
    every = np.arange(n)
    boots = [rng.integers(0, n, size=n) for _ in range(min(samples, 500))]
    real = np.array([fad("real", i) for i in boots])
    row: dict[str, Any] = {"score": name, "real": fad("real", every), "songs": n}
    for control in CONTROLS:
        d = np.array([fad(control, i) for i in boots]) - real
        row[control] = {"mean": fad(control, every), "diff": float(d.mean()), "low": float(np.percentile(d, 2.5)),
                        "high": float(np.percentile(d, 97.5)), "pairs": n}
    return row


def _cut(song: Song, samples: int) -> Song:
    if samples <= 0:
        return song
    song.stems = {t: np.pad(w[:samples], (0, max(0, samples - len(w)))) for t, w in song.stems.items()}
    return song


def score_song(index: int, song_id: str, other_id: str, root: Path, ev: EvaluationConfig, data: DataConfig,
               samples: int) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, dict[str, np.ndarray]]]:
    """Scores and mix embeddings of one held-out song and its controls, per scenario and condition."""
    sr, tracks = ev.coherence.sample_rate, list(data.tracks)
    probe, pitch = load_probe(ev), pitch_fit(ev)
    embed = probe.embed if probe is not None else mel_embedder()
    rng = np.random.default_rng([ev.seed, index])
    song = _cut(load_song(root, song_id, tracks, sr), samples)
    other = _cut(load_song(root, other_id, tracks, sr), samples)
    audio = {"real": song.stems, **{c: control_audio(song, other, c, ev, data.synth.soundfont, rng) for c in CONTROLS}}
    scores: dict[str, dict[str, dict[str, float]]] = {sc: {} for sc in KEPT}
    emb: dict[str, dict[str, np.ndarray]] = {sc: {} for sc in KEPT}
    for scenario, kept in KEPT.items():
        made = frozenset(t for t in tracks if t not in kept)
        for c in audio:
            stems = {t: (audio[c][t] if t in made else song.stems[t]) for t in tracks}
            scores[scenario][c] = clip_scores(ClipAudio(song_id, stems, song.text, song.labels, made), ev, pitch, probe)
            emb[scenario][c] = embed_all(embed, [_t(mix_stems(stems))], sr)[0].numpy()
    return scores, emb


def validate_scores(root: Path, out: Path, ev: EvaluationConfig, data: DataConfig, songs: int = 0,
                    bootstrap: int = 2000, seconds: float = 0.0, workers: int = 1) -> dict[str, Path]:
    """Score held-out songs (their first ``seconds``; 0 = whole) and their controls; write
    ``validation.md`` and ``validation.json`` in ``out``."""
    start = time.time()
    sr, tracks = ev.coherence.sample_rate, list(data.tracks)
    split = (data.split_seed, data.test_fraction, data.val_fraction)
    test_ids = split_songs(root, "test", *split)
    test_ids = test_ids[:songs] if songs > 0 else test_ids
    all_ids = sorted(d.name for d in list_song_dirs(root))  # foreign songs may come from any split
    probe = load_probe(ev)  # fail early on a bad probe file
    tempi = {s: float(song_labels_of(root / s, tracks)["tempo"]) for s in all_ids}
    rng = np.random.default_rng(ev.seed)
    others = [controls.foreign_song(s, tempi, rng) for s in test_ids]
    samples = int(round(seconds * sr))
    job = partial(score_song, root=root, ev=ev, data=data, samples=samples)
    bar = partial(tqdm, desc="validate", unit="song", total=len(test_ids))
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            results = list(bar(pool.map(job, range(len(test_ids)), test_ids, others)))
    else:
        results = [job(i, s, o) for i, s, o in bar(zip(range(len(test_ids)), test_ids, others))]
    names = ["real", *CONTROLS]
    scores = {sc: {c: [r[0][sc][c] for r in results] for c in names} for sc in KEPT}
    emb = {sc: {c: [r[1][sc][c] for r in results] for c in names} for sc in KEPT}
    embed = probe.embed if probe is not None else mel_embedder()
    ref_ids = split_songs(root, "train", *split)[:REFERENCE_SONGS]
    ref_mix = [_t(mix_stems(_cut(load_song(root, s, tracks, sr), samples).stems)) for s in ref_ids]
    ref = EmbeddingStats.from_embeddings(embed_all(embed, ref_mix, sr))
    fad_name = f"fad_mix ({'probe' if probe is not None else 'mel'} embedding)"
    result = {sc: [*paired_rows(scores[sc], bootstrap, ev.seed), fad_rows(emb[sc], ref, bootstrap, ev.seed, fad_name)]
              for sc in KEPT}
    per_track = {sc: paired_rows(scores[sc], bootstrap, ev.seed, per_track=True) for sc in KEPT}
    meta = {"data": str(root), "songs": len(test_ids), "seconds_per_song": seconds or "whole",
            "reference_songs": len(ref_ids), "bootstrap": bootstrap, "seed": int(ev.seed), "probe": probe.sha256 if probe is not None else None,
            "pitch_tracker": ev.fit.pitch_tracker, "wall_seconds": round(time.time() - start, 1),
            "kept": {k: list(v) for k, v in KEPT.items()}, "foreign": dict(zip(test_ids, others))}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "validation.json", {"meta": meta, "rows": result, "per_track": per_track, "per_song": scores})
    atomic_write_json(out / "validity.json", validity_record(per_track, meta))
    return {"markdown": write_validation(out / "validation.md", result, meta, per_track), "json": out / "validation.json",
            "validity": out / "validity.json"}


def _t(wave: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(np.asarray(wave, dtype=np.float32))

