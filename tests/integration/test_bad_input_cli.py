"""Bad inputs on the command line: one line naming the file, exit 2, and no half-written output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from jen_composer.cli.main import main

SR = 8000
SOUNDFONT = "/usr/share/sounds/sf2/TimGM6mb.sf2"
MAPPING = {"bass": ["bass*.wav"], "drums": ["drums*.wav"], "melody": ["melody*.wav"]}


def _stems_src(root: Path, melody: np.ndarray | None = None, sr: int = SR) -> Path:
    song = root / "s1"
    song.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for t in ("bass", "drums"):
        sf.write(song / f"{t}.wav", 0.1 * rng.standard_normal(sr).astype(np.float32), sr, subtype="FLOAT")
    x = 0.1 * rng.standard_normal(sr).astype(np.float32) if melody is None else melody
    sf.write(song / "melody.wav", x, sr, subtype="FLOAT")
    (root / "mapping.json").write_text(json.dumps(MAPPING))
    return root


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in "".join(err), err
    return errors[0]


def _prepare(src: Path, out: Path, *extra: str) -> int:
    return main(["data", "prepare", "--format", "stems", "--src", str(src), "--out", str(out),
                 "--sample-rate", str(SR), "--channels", "1", *extra])


def test_prepare_refuses_nan_source_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = 0.1 * np.ones(SR, np.float32)
    x[100:260] = np.nan  # the case: PCM turned these into 160 samples of -1.0
    src = _stems_src(tmp_path / "src", melody=x)
    assert _prepare(src, tmp_path / "out") == 2
    line = _one_error_line(capsys)
    assert "s1" in line and "melody.wav contains NaN or inf samples (160 of 8000" in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_prepare_empty_wav_errors_or_is_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _stems_src(tmp_path / "src", melody=np.zeros(0, np.float32))
    assert _prepare(src, tmp_path / "out") == 2
    assert "melody.wav holds no audio (0 samples)" in _one_error_line(capsys)
    assert _prepare(src, tmp_path / "out", "--skip-bad") == 0
    captured = capsys.readouterr()
    assert "0 song(s) written, 1 skipped" in captured.out and "Traceback" not in captured.err
    assert not (tmp_path / "out" / "s1").exists()


def test_prepare_prints_one_note_per_converted_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _stems_src(tmp_path / "src")
    sf.write(src / "s1" / "bass.wav", 0.1 * np.ones((SR, 2), np.float32), 2 * SR)  # 0.5 s at 16 kHz, stereo
    assert _prepare(src, tmp_path / "out") == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert notes == ["note: song 's1': bass.wav: resampled 16000 -> 8000 Hz, downmixed 2 -> 1 channel(s), "
                     "padded with 0.500 s of silence to the song length"]
    assert not list((tmp_path / "out").glob(".*"))  # no temporary folder left


def test_prepare_gain_stages_summed_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _stems_src(tmp_path / "src", melody=0.8 * np.ones(SR, np.float32))
    sf.write(src / "s1" / "melody2.wav", 0.7 * np.ones(SR, np.float32), SR)  # 0.8 + 0.7 = 1.5
    assert _prepare(src, tmp_path / "out") == 0
    assert "scaled by -3.6 dB (summed peak 1.50 would clip)" in capsys.readouterr().out
    mel = sf.read(tmp_path / "out" / "s1" / "melody.wav")[0]
    assert 0.98 < mel.max() < 0.995  # scaled to 0.99, not clipped at 1.0


def test_data_check_rejects_a_full_scale_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A song written before the fix (NaN -> 160 samples of -1.0) is rejected by `data check`."""
    song = tmp_path / "data" / "s1"
    song.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for t in ("bass", "drums", "instrument", "melody"):
        x = 0.1 * rng.standard_normal(3 * SR)
        if t == "melody":
            x[100:260] = -1.0
        sf.write(song / f"{t}.wav", x, SR)
    (song / "meta.json").write_text("{}")
    assert main(["data", "check", "--data", str(tmp_path / "data"), "--sample-rate", str(SR), "--channels", "1"]) == 2
    assert "melody.wav has 160 consecutive full-scale samples at 0.013 s" in _one_error_line(capsys)


def _midi(path: Path, programs: list[int]) -> None:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    for prog in programs:
        inst = pretty_midi.Instrument(program=prog)
        for k in range(4):
            inst.notes.append(pretty_midi.Note(127, 60, k * 0.5, k * 0.5 + 0.45))  # unison: the parts add up
        pm.instruments.append(inst)
    path.parent.mkdir(parents=True, exist_ok=True)
    pm.write(str(path))


def _render(midi: Path, out: Path, *extra: str) -> int:
    return main(["data", "render-midi", "--midi", str(midi), "--out", str(out), "--sample-rate", str(SR),
                 "--soundfont", SOUNDFONT, *extra])


def test_render_midi_gain_stages_the_instrument_stem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _midi(tmp_path / "midi" / "duo.mid", [40, 41, 73])  # violin + viola (-> instrument), flute (-> melody)
    assert _render(tmp_path / "midi", tmp_path / "out") == 0
    assert "song 'duo': instrument.wav: 2 parts summed to peak" in capsys.readouterr().out
    x = sf.read(tmp_path / "out" / "duo" / "instrument.wav")[0]
    assert np.abs(x).max() <= 0.81 and not (np.abs(x) >= 0.999).any()


def test_render_midi_truncated_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _midi(tmp_path / "ok" / "a.mid", [0])
    data = (tmp_path / "ok" / "a.mid").read_bytes()
    (tmp_path / "midi").mkdir()
    (tmp_path / "midi" / "a.mid").write_bytes(data)
    (tmp_path / "midi" / "b_cut.mid").write_bytes(data[: len(data) // 2])
    assert _render(tmp_path / "midi", tmp_path / "out") == 2
    assert "song 'b_cut': cannot parse MIDI" in _one_error_line(capsys)
    assert not (tmp_path / "out" / "b_cut").exists()
    assert _render(tmp_path / "midi", tmp_path / "out2", "--skip-bad") == 0
    assert "1 song(s) written, 1 skipped" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out2").iterdir()) == ["a"]


def test_split_validates_fractions_and_excludes_bad_songs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(2)
    for i in range(5):
        song = tmp_path / f"s{i}"
        song.mkdir()
        for t in ("bass", "drums", "instrument", "melody"):
            sf.write(song / f"{t}.wav", 0.1 * rng.standard_normal(3 * SR), SR)
        (song / "meta.json").write_text("{}")
    (tmp_path / "s4" / "drums.wav").write_bytes(b"RIFF garbage")
    args = ["data", "split", "--data", str(tmp_path)]  # the rate is taken from the songs
    assert main([*args, "--test-fraction", "1.5"]) == 2
    assert "data.test_fraction (--test-fraction) must be >= 0 and < 1, got 1.5" in _one_error_line(capsys)
    assert main([*args, "--val-fraction", "nan"]) == 2
    assert main(args) == 0
    assert "excluded s4: song 's4': cannot read" in capsys.readouterr().out
    split = json.loads((tmp_path / "splits.json").read_text())
    assert sorted(split["train"] + split["val"] + split["test"]) == ["s0", "s1", "s2", "s3"]


@pytest.mark.parametrize("content", [bytes(range(256)) * 4, b"\x7fELF\x02\x01\x01\x00" + bytes(200)])
def test_binary_experiment_is_one_line(repo_root: Path, tmp_path: Path, content: bytes,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    exp = repo_root / "experiments" / f".binary-test-{tmp_path.name}.yaml"
    exp.write_bytes(content)
    try:
        assert main(["config", str(exp)]) == 2
    finally:
        exp.unlink()
    line = _one_error_line(capsys)
    assert exp.name in line and ("not a text YAML file" in line or "invalid YAML" in line)


def test_empty_experiment_is_refused_and_fit_leaves_no_run_folder(repo_root: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    exp = repo_root / "experiments" / f".empty-test-{tmp_path.name}.yaml"
    exp.write_text("")
    try:
        assert main(["fit", str(exp), f"output_root={tmp_path / 'runs'}"]) == 2
    finally:
        exp.unlink()
    assert "the experiment file is empty" in _one_error_line(capsys)
    assert not (tmp_path / "runs").exists()


def test_failed_fit_removes_the_run_folder_it_made(repo_root: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    exp = repo_root / "experiments" / "autoencoder" / "tiny.yaml"
    out = tmp_path / "runs"
    assert main(["fit", str(exp), f"output_root={out}", f"data.root={tmp_path / 'missing'}"]) == 2
    assert "fit: error: dataset folder " in capsys.readouterr().err  # (Lightning's own log lines may follow)
    assert not out.exists() or not any(out.rglob("*")), list(out.rglob("*"))


def test_config_into_a_closed_pipe_is_quiet(repo_root: Path) -> None:
    exp = repo_root / "experiments" / "composer" / "tiny.yaml"
    cmd = f"{sys.executable} -m jen_composer.cli.main config {exp} | head -1"
    res = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert res.stdout.strip() and "Traceback" not in res.stderr and "BrokenPipe" not in res.stderr, res.stderr
