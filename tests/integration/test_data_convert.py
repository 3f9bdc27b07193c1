"""Converters on tiny fixture trees in the published layouts, plus render-midi and separate."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from jen_composer.cli.main import main
from jen_composer.core.config.data import DataConfig
from jen_composer.core.errors import DataError
from jen_composer.data import scan_dataset
from jen_composer.data.convert import prepare_dataset

SR_IN, SR = 22050, 8000
TRACKS = ["bass", "drums", "instrument", "melody"]


def _tone(path: Path, freq: float, seconds: float = 1.0, sr: int = SR_IN, stereo: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    x = 0.2 * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr).astype(np.float32)
    sf.write(path, np.stack([x, x], 1) if stereo else x, sr)


def _rms(path: Path) -> float:
    return float(np.sqrt(np.mean(sf.read(path)[0] ** 2)))


def _check(out: Path, n: int) -> None:
    summary = scan_dataset(DataConfig(root=str(out), sample_rate=SR, snippet_seconds=0.25))
    assert len(summary.songs) == n
    for rec in summary.songs:
        assert all(sf.info(str(p)).samplerate == SR for p in rec.files.values())


def test_slakh2100(tmp_path: Path) -> None:
    track = tmp_path / "slakh" / "train" / "Track00001"
    stems = {"S00": ("Bass", False, 33, 55), "S01": ("Drums", True, 0, 200), "S02": ("Piano", False, 0, 330),
             "S03": ("Synth Lead", False, 80, 880), "S04": ("Guitar", False, 25, 440)}
    meta = {"UUID": "x", "audio_dir": "stems", "midi_dir": "MIDI", "stems": {}}
    for sid, (cls, drum, prog, f) in stems.items():
        _tone(track / "stems" / f"{sid}.flac", f)
        meta["stems"][sid] = {"inst_class": cls, "is_drum": drum, "program_num": prog, "audio_rendered": True,
                              "midi_program_name": cls}
    meta["stems"]["S05"] = {"inst_class": "Strings", "is_drum": False, "program_num": 48, "audio_rendered": False}
    _tone(track / "mix.flac", 100)
    (track / "metadata.yaml").write_text(__import__("yaml").safe_dump(meta))
    prepare_dataset("slakh2100", tmp_path / "slakh", tmp_path / "out", SR, 1, progress=False)
    _check(tmp_path / "out", 1)
    song = tmp_path / "out" / "Track00001"
    assert _rms(song / "instrument.wav") > 1.3 * _rms(song / "bass.wav")  # piano + guitar summed
    assert json.loads((tmp_path / "out" / "splits.json").read_text())["train"] == ["Track00001"]


def test_musdb18hq(tmp_path: Path) -> None:
    for split in ("train", "test"):
        folder = tmp_path / "musdb" / split / f"Artist - Song {split}"
        for i, stem in enumerate(("mixture", "drums", "bass", "other", "vocals")):
            _tone(folder / f"{stem}.wav", 110 * (i + 1), sr=44100)
    prepare_dataset("musdb18hq", tmp_path / "musdb", tmp_path / "out", SR, 1, progress=False)
    _check(tmp_path / "out", 2)
    split = json.loads((tmp_path / "out" / "splits.json").read_text())
    assert split["test"] == ["Artist_-_Song_test"] and split["train"] == ["Artist_-_Song_train"]
    assert (tmp_path / "out" / "Artist_-_Song_test" / "mix.wav").is_file()


def test_moisesdb(tmp_path: Path) -> None:
    folder = tmp_path / "moises" / "moisesdb_v0.1" / "0a1b2c"
    stems = [("vocals", "lead_female_singer", 440), ("bass", "bass_guitar", 55), ("drums", "kick_drum", 60),
             ("drums", "snare_drum", 200), ("guitar", "clean_electric_guitar", 330), ("piano", "grand_piano", 262)]
    data = {"artist": "A", "song": "S", "genre": "Pop", "stems": []}
    for i, (stem, kind, f) in enumerate(stems):
        _tone(folder / stem / f"t{i}.wav", f, sr=44100)
        data["stems"].append({"stemName": stem, "tracks": [{"id": f"t{i}", "extension": "wav", "trackType": kind}]})
    (folder / "data.json").write_text(json.dumps(data))
    prepare_dataset("moisesdb", tmp_path / "moises", tmp_path / "out", SR, 2, progress=False)
    meta = json.loads((tmp_path / "out" / "0a1b2c" / "meta.json").read_text())
    assert meta["tags"]["genre"] == "pop" and "lead female singer" in meta["tags"]["instruments"]
    assert sf.info(str(tmp_path / "out" / "0a1b2c" / "melody.wav")).channels == 2


def test_stems_with_mapping_and_errors(tmp_path: Path) -> None:
    for song in ("one", "two"):
        for name, f in (("Bass DI", 55), ("kick", 60), ("keys", 330), ("vox", 440)):
            _tone(tmp_path / "src" / song / f"{name}.wav", f, stereo=False)
    with pytest.raises(DataError, match="mapping file"):
        prepare_dataset("stems", tmp_path / "src", tmp_path / "out", SR, 1, progress=False)
    mapping = {"bass": ["Bass*"], "drums": ["kick*"], "instrument": ["keys*"], "melody": ["vox*"]}
    (tmp_path / "map.json").write_text(json.dumps(mapping))
    assert main(["data", "prepare", "--format", "stems", "--src", str(tmp_path / "src"), "--out", str(tmp_path / "out"),
                 "--mapping", str(tmp_path / "map.json"), "--sample-rate", str(SR)]) == 0
    _check(tmp_path / "out", 2)
    (tmp_path / "bad.json").write_text(json.dumps({"vocals": ["vox*"]}))
    with pytest.raises(DataError, match="unknown track"):
        prepare_dataset("stems", tmp_path / "src", tmp_path / "o2", SR, 1, mapping=tmp_path / "bad.json", progress=False)


def test_render_midi_assigns_slakh_style(tmp_path: Path) -> None:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    parts = [(33, False, 36), (0, True, 36), (0, False, 60), (73, False, 79)]
    for prog, drum, pitch in parts:
        inst = pretty_midi.Instrument(program=prog, is_drum=drum)
        for k in range(4):
            inst.notes.append(pretty_midi.Note(100, pitch, k * 0.5, k * 0.5 + 0.4))
        pm.instruments.append(inst)
    (tmp_path / "midi").mkdir()
    pm.write(str(tmp_path / "midi" / "tune.mid"))
    (tmp_path / "midi" / "broken.mid").write_bytes(b"not midi")
    assert main(["data", "render-midi", "--midi", str(tmp_path / "midi"), "--out", str(tmp_path / "out"),
                 "--sample-rate", str(SR)]) == 2
    assert main(["data", "render-midi", "--midi", str(tmp_path / "midi"), "--out", str(tmp_path / "out"),
                 "--sample-rate", str(SR), "--skip-bad"]) == 0
    song = tmp_path / "out" / "tune"
    assert all(_rms(song / f"{t}.wav") > 1e-3 for t in TRACKS)
    meta = json.loads((song / "meta.json").read_text())
    assert meta["tags"]["tempo"] == 120 and "flute" in meta["tags"]["instruments"]
    mel = sf.read(song / "melody.wav")[0]
    assert peak_frequency(mel) > 600  # the flute top line (G5 ~ 784 Hz) went to melody


def peak_frequency(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(x), 1 / SR)[np.argmax(spec)])


def test_separate_without_demucs_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _tone(tmp_path / "mixes" / "a.wav", 220)
    monkeypatch.setitem(sys.modules, "demucs.pretrained", None)  # import fails as if demucs were absent
    assert main(["data", "separate", "--src", str(tmp_path / "mixes"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install demucs" in err[0]
