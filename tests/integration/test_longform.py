"""Long pieces on the bundled (tiny placeholder) checkpoint: windows through the Python API, a session
and the CLI; kept stems bit-exact, one window decoded at a time; lengths refused at every entry point."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from jen_composer.cli.main import main
from jen_composer.composition.replay import replay
from jen_composer.composition.session import Session
from jen_composer.core.config.composition import CompositionConfig
from jen_composer.core.errors import ConfigError
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.bundle import checkpoint_or_bundle
from jen_composer.inference.longform_audio import piece_windows
from jen_composer.inference.pipeline import ComposerPipeline
from jen_composer.studio.app import create_app
from tests.fakes import FakeEngine

pytestmark = pytest.mark.usefixtures("one_thread")
SMALL = {"window_seconds": 1.0, "overlap_seconds": 0.25, "crossfade_seconds": 0.1}
OVERRIDES = [f"composition.longform.{k}={v}" for k, v in SMALL.items()]


@pytest.fixture(scope="module")
def pipe() -> ComposerPipeline:
    p = ComposerPipeline.from_checkpoint(checkpoint_or_bundle(None))
    for key, value in SMALL.items():
        p.cfg.composition.longform[key] = value
    return p


def _tone(seconds: float, sr: int, freq: float) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t))[None].astype(np.float32)


def test_a_long_piece_is_made_one_window_at_a_time(pipe: ComposerPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    ae, seen = pipe.autoencoder, {"encode": [], "decode": []}
    encode, decode = ae.encode, ae.decode
    monkeypatch.setattr(ae, "encode", lambda w, *a, **k: seen["encode"].append(w.shape[-1]) or encode(w, *a, **k))
    monkeypatch.setattr(ae, "decode", lambda z, *a, **k: seen["decode"].append(z.shape[-1]) or decode(z, *a, **k))
    steps: list[tuple[int, int]] = []
    seconds = 2.6
    kept = {"drums": _tone(3.0, pipe.sample_rate, 110.0)}  # longer than the piece: cut to it, then to windows
    out = pipe.generate("funk", kept, ["bass", "melody"], seconds=seconds, seed=1,
                        settings=SamplerSettings(steps=2), progress=lambda a, b: steps.append((a, b)))
    windows = piece_windows(pipe, seconds)
    window_frames, hop = windows[0].length, int(ae.hop)
    assert len(windows) == 4 and set(out) == {"bass", "melody"}
    assert all(v.shape == (1, round(seconds * pipe.sample_rate)) and np.isfinite(v).all() for v in out.values())
    assert seen["encode"] and max(seen["encode"]) == window_frames * hop  # kept stem encoded per window
    assert len(seen["decode"]) == 2 * len(windows) and max(seen["decode"]) == window_frames  # decoded per window
    assert steps[-1][0] == steps[-1][1] and len({b for _, b in steps}) == 1  # one bar over all windows


def test_kept_stems_of_a_three_window_session_stay_bit_identical(pipe: ComposerPipeline, tmp_path: Path) -> None:
    s = Session.create(tmp_path / "s", pipe, "slow blues", seconds=2.2, seed=3)
    assert len(piece_windows(pipe, 2.2)) == 3
    s.set_settings(steps=2)
    wav = tmp_path / "bass.wav"
    sf.write(wav, _tone(2.2, pipe.sample_rate, 82.0)[0], pipe.sample_rate, subtype="FLOAT")
    s.import_track("bass", wav)
    before = s.take("bass").copy()
    digest = s.take_sha256()["bass"]
    s.regenerate()
    assert s.take_sha256()["bass"] == digest and np.array_equal(s.take("bass"), before)
    exported = Path(s.export(tmp_path / "out"))
    stem = sf.read(exported / "stems" / "bass.wav", dtype="float32", always_2d=True)[0].T
    assert np.array_equal(stem, before)
    assert {s.take(t).shape for t in s.tracks} == {(1, s.num_samples)}
    melody = s.take("melody").copy()
    s.regenerate_region("melody", 0.8, 1.3)  # spans the seam between windows 0 and 1
    a, b = round(0.8 * s.sample_rate), round(1.3 * s.sample_rate)
    after = s.take("melody")
    assert np.array_equal(after[:, :a], melody[:, :a]) and np.array_equal(after[:, b:], melody[:, b:])
    assert not np.array_equal(after[:, a:b], melody[:, a:b])
    s.keep("bass")
    s.reimagine("bass", 0.5)
    assert s.take("bass").shape == before.shape and not np.array_equal(s.take("bass"), before)
    assert replay(s.root, pipe).identical  # the windows are deterministic


@pytest.mark.parametrize("seconds", [0.0, -2.0, 601.0])
def test_the_python_api_refuses_a_bad_length(pipe: ComposerPipeline, seconds: float) -> None:
    with pytest.raises(ConfigError, match="seconds"):
        pipe.generate("x", {}, ["bass"], seconds=seconds, seed=0, settings=SamplerSettings(steps=2))


def _one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize("seconds", ["0", "-1", "601"])
def test_compose_refuses_a_bad_length_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], seconds: str) -> None:
    code = main(["compose", "--prompt", "x", "--session", str(tmp_path / "s"), "--seconds", seconds, "--generate", "all"])
    assert code == 2 and "seconds" in _one_error(capsys)
    assert not (tmp_path / "s").exists()  # no half-written session


def test_compose_makes_a_long_piece_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jen_composer.inference.pipeline as pipeline

    sdir, windowed = tmp_path / "s", []
    real = pipeline.generate_long
    monkeypatch.setattr(pipeline, "generate_long", lambda *a, **k: windowed.append(len(piece_windows(a[0], k["seconds"]))) or real(*a, **k))
    assert main(["compose", "--prompt", "lofi", "--session", str(sdir), "--seconds", "2.2", "--steps", "2",
                 "--generate", "all", *OVERRIDES]) == 0
    s = Session.open(sdir)
    assert {s.take(t).shape for t in s.tracks} == {(1, round(2.2 * s.sample_rate))}
    hashes = {hashlib.sha256(s.take(t).tobytes()).hexdigest() for t in s.tracks}
    assert len(hashes) == 4 and all(np.abs(s.take(t)).max() > 0 for t in s.tracks)
    assert windowed == [3]  # the command-line composition.longform.* reached the engine


def test_evaluate_refuses_a_bad_length_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--out", str(tmp_path / "ev"), "evaluation.clip_seconds=0"]) == 2
    assert "evaluation.clip_seconds" in _one_error(capsys) and not (tmp_path / "ev").exists()


@pytest.mark.parametrize("seconds", [0, -3, 601])
def test_the_studio_refuses_a_bad_length_with_one_line(tmp_path: Path, seconds: float) -> None:
    c = TestClient(create_app(FakeEngine(), CompositionConfig(), tmp_path / "sessions"), base_url="http://127.0.0.1:7860")
    r = c.post("/api/sessions", json={"prompt": "x", "seconds": seconds})
    assert r.status_code == 400 and "seconds" in r.json()["detail"] and "\n" not in r.json()["detail"]
    assert c.post("/api/sessions", json={"prompt": "x", "seconds": 30}).status_code == 200  # long is fine


def test_evaluate_generates_clips_longer_than_the_window(pipe: ComposerPipeline, tiny_songs: Path) -> None:
    from omegaconf import OmegaConf

    from jen_composer.workflows.evaluate import Evaluator, load_clips

    cfg = OmegaConf.merge(pipe.cfg, {"data": {"root": str(tiny_songs)}, "composer": {"sampler": {"steps": 2}}})
    clip = load_clips(cfg, "test", 1, 2.2, pipe.sample_rate)[0]
    steps: list[tuple[int, int]] = []
    stems, made = Evaluator(pipe, cfg, log=lambda _: None, progress=lambda a, b: steps.append((a, b))).generate_task(
        clip, "conditional", 0, 2.2)
    assert made == {"instrument", "melody"} and {v.shape for v in stems.values()} == {(1, round(2.2 * pipe.sample_rate))}
    assert all(stems[t] is clip.stems[t] for t in ("drums", "bass"))  # the kept stems are the song's own
    assert steps[-1][0] == steps[-1][1] == 3 * 2  # one bar over the 3 windows
