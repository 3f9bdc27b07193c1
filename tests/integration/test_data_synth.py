"""The rendered benchmark: deterministic per seed, beat labels match drum onsets, mix = gain-scaled sum."""

from __future__ import annotations

import json
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

from jen_composer.cli.main import main
from jen_composer.core.config.data import DataConfig, SynthConfig
from jen_composer.data import MultiTrackDataModule
from jen_composer.data.synth import synth_dataset

SR = 16000
TRACKS = ["bass", "drums", "instrument", "melody"]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "a"
    synth_dataset(root, SynthConfig(songs=5, seconds=4.0, seed=7), SR, 1, progress=False)
    return root


def test_same_seed_identical_other_seed_differs(synth_root: Path, tmp_path: Path) -> None:
    synth_dataset(tmp_path / "b", SynthConfig(songs=5, seconds=4.0, seed=7), SR, 1, progress=False)
    synth_dataset(tmp_path / "c", SynthConfig(songs=5, seconds=4.0, seed=8), SR, 1, progress=False)
    a, b, c = _files(synth_root), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == b
    assert a.keys() == c.keys() and a["song0000/melody.wav"] != c["song0000/melody.wav"]
    assert a["song0000/meta.json"] != c["song0000/meta.json"]


def test_songs_have_genres_tags_captions_and_labels(synth_root: Path) -> None:
    metas = [json.loads((synth_root / f"song{i:04d}" / "meta.json").read_text()) for i in range(5)]
    assert {m["tags"]["genre"] for m in metas} == {"pop", "rock", "funk", "jazz", "electronic"}
    for m in metas:
        assert set(m["tags"]) == {"genre", "instruments", "mood", "tempo", "key"}
        assert m["tags"]["genre"] in m["caption"].lower() and str(m["tags"]["tempo"]) in m["caption"]
        assert m["labels"]["tempo"] == m["tags"]["tempo"] and m["labels"]["chords"]
        assert 0 < min(m["gains"].values()) and max(m["gains"].values()) <= 1


def test_mix_equals_gain_scaled_sum(synth_root: Path) -> None:
    for i in range(5):
        folder = synth_root / f"song{i:04d}"
        gains = json.loads((folder / "meta.json").read_text())["gains"]
        stems = sum(gains[t] * sf.read(folder / f"{t}.wav", dtype="float32")[0] for t in TRACKS)
        mix = sf.read(folder / "mix.wav", dtype="float32")[0]
        assert mix.shape == stems.shape and np.abs(mix - stems).max() < 2e-4 and np.abs(mix).max() <= 0.96


def test_beat_labels_agree_with_drum_onsets(synth_root: Path) -> None:
    for i in range(5):
        folder = synth_root / f"song{i:04d}"
        beats = np.array(json.loads((folder / "meta.json").read_text())["labels"]["beats"])
        drums, _ = sf.read(folder / "drums.wav", dtype="float32")
        lead = SR // 4  # the detector needs context before the first hit at t = 0
        y = np.concatenate([np.zeros(lead, np.float32), drums])
        onsets = librosa.onset.onset_detect(y=y, sr=SR, hop_length=128, units="time", backtrack=True) - lead / SR
        dist = np.abs(beats[:, None] - onsets[None, :]).min(axis=1)
        assert np.mean(dist < 0.05) >= 0.9, (folder.name, dist.round(3))


def test_datamodule_reads_the_benchmark(synth_root: Path) -> None:
    dm = MultiTrackDataModule(DataConfig(root=str(synth_root), batch_size=2), seed=0)
    dm.prepare_data()
    dm.setup()
    batch = next(iter(dm.train_dataloader()))
    assert batch["audio"].shape == (2, 4, 1, round(2.048 * SR)) and len(batch["prompt"]) == 2
    assert dm.summary.skipped == {}


def test_cli_synth_and_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s"
    assert main(["data", "synth", "--out", str(out), "--songs", "3", "--seconds", "2.5", "--seed", "1",
                 "--sample-rate", "8000"]) == 0
    assert sf.info(str(out / "song0002" / "bass.wav")).samplerate == 8000
    assert main(["data", "split", "--data", str(out), "--seed", "3"]) == 0
    split = json.loads((out / "splits.json").read_text())
    assert split["seed"] == 3 and sorted(split["train"] + split["val"] + split["test"]) == ["song0000", "song0001", "song0002"]
    assert main(["data", "synth", "--out", str(out), "--songs", "1", "--soundfont", str(tmp_path / "none.sf2")]) == 2
    assert "soundfont" in capsys.readouterr().err


def test_every_render_records_its_settings_and_the_pipeline_never_deletes_a_folder_it_cannot_vouch_for(
        tmp_path: Path) -> None:
    """`data synth` and the pipeline's render write the same synth.json, so either's output is reused;
    a data.root with files but no record is refused in one line and left as it was."""
    import json

    import pytest

    from jen_composer.core.config import compose
    from jen_composer.core.errors import ConfigError
    from jen_composer.data.synth.build import MARKER, render_record
    from jen_composer.workflows.train_pipeline import render_benchmark

    cfg = compose(None, [f"data.root={tmp_path / 'a'}", "data.synth.songs=2", "data.synth.seconds=2", f"data.sample_rate={SR}"])
    synth_dataset(tmp_path / "a", cfg.data.synth, SR, 1, progress=False)
    assert json.loads((tmp_path / "a" / MARKER).read_text()) == render_record(cfg.data.synth, SR, 1)
    before = sorted(p.stat().st_mtime_ns for p in (tmp_path / "a").rglob("*.wav"))
    lines: list[str] = []
    render_benchmark(cfg, lines.append)
    assert "reusing" in lines[-1] and sorted(p.stat().st_mtime_ns for p in (tmp_path / "a").rglob("*.wav")) == before
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    cfg.data.root = str(tmp_path / "mine")
    with pytest.raises(ConfigError, match=f"data.root: .*mine holds files but no {MARKER}"):
        render_benchmark(cfg, lines.append)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
