"""An exported autoencoder stored as nf4 / nf3 after calibrated rounding (GPTQ) on training songs.

`jen-composer autoencoder export --autoencoder SRC --out OUT --weights-dtype nf3 --calibrate DATA`.
Why: the bundle's bytes are mostly the autoencoder's kernels, and 3-bit levels reached by nearest
rounding cost it the pitch (docs/results/autoencoder_bench.md). The calibration clips are the stems of
the first songs of the *training* split (the split the round-trip gate never scores), each cut to the
same length; the export's config.json records which, so a rerun rounds the same weights the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from jen_composer import TRACKS
from jen_composer.core.config.data import DataConfig
from jen_composer.core.errors import CheckpointError, ConfigError, DataError
from jen_composer.core.gptq import DEFAULT_DAMP
from jen_composer.core.weight_storage import NF_BITS
from jen_composer.data.index import list_song_dirs
from jen_composer.data.splits import resolve_splits
from jen_composer.models.autoencoder import export_autoencoder, rebuild_exported
from jen_composer.models.calibrated_rounding import calibrated_rounding
from jen_composer.workflows.demo_samples import song_stems

DEFAULT_SONGS = 32  # the bundled autoencoder's calibration (docs/results/autoencoder_bench.md)


SPLIT = (DataConfig.split_seed, DataConfig.test_fraction, DataConfig.val_fraction)  # the data config's defaults


def calibration_songs(data_root: Path, songs: int, split: tuple[int, float, float] = SPLIT) -> list[str]:
    """The first ``songs`` songs of the training split (``split``: seed, test and validation fractions)."""
    if not data_root.is_dir():
        raise DataError(f"{data_root}: no such dataset folder to calibrate on")
    splits = resolve_splits(data_root, [d.name for d in list_song_dirs(data_root)], *split)
    chosen = sorted(splits.get("train", []))[:songs]
    if not chosen:
        raise DataError(f"{data_root}: the train split holds no songs to calibrate on")
    return chosen


def calibrated_export(source: str | Path, out: str | Path, decoding: dict[str, Any], weights_dtype: str,
                      data_root: Path, songs: int = DEFAULT_SONGS, seconds: float = 4.096,
                      log: Callable[[str], None] = print, split: tuple[int, float, float] = SPLIT) -> Path:
    """``source`` (an exported VAE) rounded onto ``weights_dtype``'s grid by GPTQ on ``songs`` training songs'
    stems (their first ``seconds``, or all of a shorter song) and written to ``out`` as that storage, which then holds the rounded values exactly."""
    if weights_dtype not in NF_BITS:
        raise ConfigError(f"--weights-dtype: calibrated rounding stores {' or '.join(NF_BITS)}, not {weights_dtype}")
    if songs < 1:
        raise ConfigError(f"--calibration-songs: {songs}; at least 1")
    model, _ = rebuild_exported(source, out, decoding)
    names = calibration_songs(Path(data_root), songs, split)
    samples = round(seconds * model.sample_rate)
    batches = []
    for song in names:
        stems = song_stems(Path(data_root), song, TRACKS, samples, model.sample_rate)
        length = min(w.shape[1] for w in stems.values())  # a song shorter than the clip: all of it
        for track, wave in stems.items():
            if wave.shape != (model.channels, length) or length < model.hop:
                raise DataError(f"{Path(data_root) / song / (track + '.wav')}: {wave.shape[0]} channel(s) x {wave.shape[1]} "
                                f"samples; calibration needs {model.channels} channel(s) and the song's other stems' length "
                                f"(at least {model.hop} samples)")
        batches.append(torch.from_numpy(np.stack(list(stems.values()))))
    log(f"calibrating on {len(names)} training songs x {len(TRACKS)} stems x {seconds:g} s")

    def forward(m: torch.nn.Module, wave: torch.Tensor) -> None:
        m.decode(m.encode(wave), length=wave.shape[-1])

    try:
        rounded = calibrated_rounding(model, batches, forward, weights_dtype, log)
    except ValueError as exc:
        raise CheckpointError(f"{source}: calibrated rounding failed ({exc})") from None
    record = {"method": "gptq", "damp": DEFAULT_DAMP, "act_order": True, "data": str(data_root), "split": "train",
              "split_seed_test_val": list(split), "songs": names, "tracks": list(TRACKS), "seconds": seconds,
              "source": str(source)}
    return export_autoencoder(rounded, out, weights_dtype, rounding=record)
