"""Each bad input gives one clear DataError naming song and file, or (skip) a warning and a count."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jen_composer.core.config.data import DataConfig
from jen_composer.core.errors import DataError
from jen_composer.data import MultiTrackDataModule, scan_dataset

SR = 8000
TRACKS = ["bass", "drums", "instrument", "melody"]


def _song(root: Path, song: str, n: int = SR) -> Path:
    folder = root / song
    folder.mkdir(parents=True)
    rng = np.random.default_rng(len(song))
    for t in TRACKS:
        sf.write(folder / f"{t}.wav", 0.2 * rng.standard_normal(n).astype(np.float32), SR, subtype="FLOAT")
    (folder / "meta.json").write_text(json.dumps({"tags": {"genre": "x"}, "gains": {"bass": 0.5}}))
    return folder


def _corrupt(f: Path) -> None:
    (f / "drums.wav").write_bytes(b"RIFF\x00\x00garbage" * 10)


def _rate(f: Path) -> None:
    sf.write(f / "drums.wav", np.zeros(SR // 2, np.float32) + 0.1, SR // 2)


def _length(f: Path) -> None:
    sf.write(f / "drums.wav", 0.1 * np.ones(SR // 2, np.float32), SR)


def _missing(f: Path) -> None:
    (f / "drums.wav").unlink()


def _nan(f: Path) -> None:
    x = 0.1 * np.ones(SR, np.float32)
    x[10] = np.nan
    sf.write(f / "drums.wav", x, SR, subtype="FLOAT")


def _silent(f: Path) -> None:
    for t in TRACKS:
        sf.write(f / f"{t}.wav", np.zeros(SR, np.float32), SR)


def _bad_json(f: Path) -> None:
    (f / "meta.json").write_text('{"tags": {"genre": "x",}')


def _bad_gain(f: Path) -> None:
    (f / "meta.json").write_text(json.dumps({"gains": {"bass": "loud"}}))


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "corrupt": (_corrupt, r"song 'bad': cannot read .*drums\.wav"),
    "sample_rate": (_rate, r"song 'bad': .*drums\.wav has sample rate 4000 Hz, expected 8000"),
    "lengths": (_length, r"song 'bad': track lengths differ by 0\.500 s \(.*wav"),
    "missing": (_missing, r"song 'bad': missing track 'drums' \(expected .*drums\.wav\)"),
    "nan": (_nan, r"song 'bad': .*drums\.wav contains NaN or inf"),
    "silent": (_silent, r"song 'bad': all tracks are silent .*bass\.wav"),
    "meta_json": (_bad_json, r"song 'bad': .*meta\.json: invalid JSON"),
    "meta_gain": (_bad_gain, r"song 'bad': .*meta\.json: gain of 'bass' must be a finite number"),
}


def _cfg(root: Path, mode: str) -> DataConfig:
    return DataConfig(root=str(root), sample_rate=SR, snippet_seconds=0.25, on_bad_input=mode)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_error_names_song_and_file(tmp_path: Path, case: str) -> None:
    _song(tmp_path, "good")
    CASES[case][0](_song(tmp_path, "bad"))
    with pytest.raises(DataError, match=CASES[case][1]) as info:
        scan_dataset(_cfg(tmp_path, "error"))
    assert "\n" not in str(info.value)


def test_skip_mode_warns_and_counts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for i in range(3):
        _song(tmp_path, f"good{i}")
    for name, (make, _) in CASES.items():
        make(_song(tmp_path, name))
    with caplog.at_level(logging.WARNING):
        dm = MultiTrackDataModule(_cfg(tmp_path, "skip"))
        dm.setup()
    assert sorted(dm.summary.skipped) == sorted(CASES)
    assert [r.song_id for r in dm.summary.songs] == ["good0", "good1", "good2"]
    assert f"3 song(s) usable, {len(CASES)} skipped" in str(dm.summary)
    assert sum("skipping song" in r.message for r in caplog.records) == len(CASES)
    assert any("skipped" in r.message and "data scan" in r.message for r in caplog.records)
    used = {i["song_id"] for ds in dm.datasets.values() for i in (ds[j] for j in range(len(ds)))}
    assert used <= {"good0", "good1", "good2"}


def test_workers_never_see_bad_files(tmp_path: Path) -> None:
    """Validation happens before loading, so a worker only reads checked files."""
    for i in range(3):
        _song(tmp_path, f"good{i}")
    _nan(_song(tmp_path, "bad"))
    cfg = _cfg(tmp_path, "skip")
    cfg.num_workers = 1
    dm = MultiTrackDataModule(cfg)
    dm.setup()
    assert sum(b["audio"].shape[0] for b in dm.train_dataloader()) == len(dm.datasets["train"])
