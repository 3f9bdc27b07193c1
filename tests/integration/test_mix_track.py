"""The mix as a conditioning track, end to end on the tiny world: a 3-step run with
``composer.mix_track=true`` trains on the mix latents and logs the mix task shares; its checkpoint
round-trips and separates a mix; a checkpoint saved without the option (and one saved before the
option existed) still loads, generates, and refuses a mix in one line."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from jen_composer.core.checkpoints import CHECKPOINT_KEY
from jen_composer.core.errors import DataError
from jen_composer.core.tracks import MIX
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.pipeline import ComposerPipeline, composer_from_checkpoint

SETTINGS = SamplerSettings(name="ddim", steps=2, text_guidance=1.0, stem_guidance=1.0)


@pytest.fixture(scope="module")
def mix_run(tiny_songs: Path, tiny_latents: Path, tiny_autoencoder: Path, tmp_path_factory: pytest.TempPathFactory):
    from tests.helpers import three_step_composer_run

    return three_step_composer_run(tiny_songs, tiny_latents, tiny_autoencoder, tmp_path_factory.mktemp("mixruns"),
                                   "composer.mix_track=true", "curriculum.separation=0.3", "curriculum.extraction=0.3",
                                   "curriculum.arrangement=0.3")


def _wave(seed: int, seconds: float = 1.0, sr: int = 16000) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((1, int(seconds * sr))) * 0.1).astype(np.float32)


def test_mix_run_trains_on_the_mix_and_logs_its_task_shares(mix_run) -> None:
    _, result = mix_run
    rows = list(csv.DictReader(open(result.run_dir / "logs" / "metrics.csv")))
    columns = set(rows[0])
    for name in ("tasks/share_separation_step", "tasks/share_extraction_step", "tasks/conditions_given_step",
                 "val/loss_separation", "val/loss_extraction"):
        assert name in columns, name
    given = [float(r["tasks/conditions_given_step"]) for r in rows if r.get("tasks/conditions_given_step")]
    assert len(given) == 3 and 0.0 <= min(given) and max(given) <= 1.0
    model, cfg = composer_from_checkpoint(result.last_checkpoint)
    assert model.num_tracks == 5 and model.condition_tracks == 1 and model.unet.in_conv.in_channels == 5 * 8
    assert list(cfg.data.tracks) == ["bass", "drums", "instrument", "melody"] and bool(cfg.composer.mix_track)


def test_mix_checkpoint_round_trips_and_separates_a_mix(mix_run) -> None:
    _, result = mix_run
    pipe = ComposerPipeline.from_checkpoint(result.last_checkpoint)
    assert pipe.mix_track and pipe.tracks == ["bass", "drums", "instrument", "melody"]
    out = pipe.generate("funk", {MIX: _wave(0)}, list(pipe.tracks), seconds=1.0, seed=1, settings=SETTINGS)
    assert sorted(out) == sorted(pipe.tracks)
    assert all(v.shape == (1, 16000) and np.isfinite(v).all() for v in out.values())
    again = pipe.generate("funk", {MIX: _wave(0)}, list(pipe.tracks), seconds=1.0, seed=1, settings=SETTINGS)
    other = pipe.generate("funk", {MIX: _wave(5)}, list(pipe.tracks), seconds=1.0, seed=1, settings=SETTINGS)
    assert all(np.array_equal(out[t], again[t]) for t in out)  # seeded
    assert not all(np.array_equal(out[t], other[t]) for t in out)  # the mix reaches the model
    bass = pipe.generate("funk", {MIX: _wave(0), "drums": _wave(2)}, ["bass"], seconds=1.0, seed=1, settings=SETTINGS)
    assert list(bass) == ["bass"]  # arrangement: drums kept, mix given, bass generated
    with pytest.raises(DataError, match="never generated"):
        pipe.generate("funk", {}, [MIX], seconds=1.0, seed=1, settings=SETTINGS)
    with pytest.raises(DataError, match="mix: the mix is silent"):
        pipe.generate("funk", {MIX: np.zeros((1, 16000), np.float32)}, ["bass"], seconds=1.0, seed=1, settings=SETTINGS)
    with pytest.raises(DataError, match="mix: the mix lasts 0.50 s but the take"):
        pipe.generate("funk", {MIX: _wave(0, seconds=0.5)}, ["bass"], seconds=1.0, seed=1, settings=SETTINGS)


def _strip_mix_option(src: Path, dst: Path) -> Path:
    """The checkpoint as it was saved before `composer.mix_track` and the mix task shares existed."""
    ckpt = torch.load(src, map_location="cpu", weights_only=True)
    info = ckpt[CHECKPOINT_KEY]
    info["config"]["composer"].pop("mix_track")
    for key in ("separation", "extraction", "arrangement"):
        info["config"]["curriculum"].pop(key)
    info["composer"].pop("mix_track", None)
    torch.save(ckpt, dst)
    return dst


def test_checkpoints_without_the_mix_track_load_generate_and_refuse_a_mix(tiny_composer_run, tmp_path: Path) -> None:
    _, result = tiny_composer_run
    old = _strip_mix_option(result.last_checkpoint, tmp_path / "old.ckpt")
    for path in (result.last_checkpoint, old):
        pipe = ComposerPipeline.from_checkpoint(path)
        assert not pipe.mix_track and pipe.model.num_tracks == 4
        out = pipe.generate("funk", {"drums": _wave(1)}, ["bass"], seconds=1.0, seed=3, settings=SETTINGS)
        assert out["bass"].shape == (1, 16000) and np.isfinite(out["bass"]).all()
        with pytest.raises(DataError, match="trained without the mix track"):
            pipe.generate("funk", {MIX: _wave(0)}, ["bass"], seconds=1.0, seed=3, settings=SETTINGS)


def _mix_only_folder(tmp_path: Path) -> tuple[Path, Path]:
    import json

    import soundfile as sf

    folder = tmp_path / "mixes"
    folder.mkdir()
    sf.write(folder / "a.wav", _wave(4)[0], 16000)
    prompts = tmp_path / "prompts.json"
    prompts.write_text(json.dumps({"a": "funk with slap bass"}))
    return folder, prompts


def test_evaluate_audio_splits_mixes_with_a_checkpoint_and_says_so(mix_run, tiny_composer_run, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from jen_composer.cli.main import main

    folder, prompts = _mix_only_folder(tmp_path)
    ckpt = mix_run[1].last_checkpoint
    args = ["evaluate-audio", "--dir", str(folder), "--prompts", str(prompts), "--out", str(tmp_path / "eval"),
            f"evaluation.separator={ckpt}"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"1 mix-only clip(s) split into tracks by checkpoint {ckpt} (separation mode" in printed
    assert "separation mode" in (tmp_path / "eval" / "results.json").read_text()
    args[-1] = f"evaluation.separator={tiny_composer_run[1].last_checkpoint}"
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "trained without the mix track" in err[0]


def test_evaluate_separation_scores_a_checkpoint_between_the_anchors(mix_run, tiny_songs: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from jen_composer.cli.main import main

    ckpt = mix_run[1].last_checkpoint
    assert main(["evaluate-separation", "--data", str(tiny_songs), "--split", "train", "--songs", "1",
                 "--seconds", "1", "--ckpt", str(ckpt), "--steps", "2"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and not line.startswith("| system")]
    run = ckpt.parent.parent.name
    names = [r.split("|")[1].strip() for r in rows]
    assert names[:2] == ["mix as every stem (floor)", "ideal ratio mask (ceiling)"] and len(names) == 14
    assert names[2].startswith("codec round trip of ") and names[2].endswith(" (its ceiling)")
    assert names[3] == f"checkpoint {run}/{Path(ckpt).name}"
    assert names[4:7] == names[1:4]  # minus the floor, paired by song: every system but the floor
    assert names[7:] == names[:7]  # SI-SDR, then magnitude SDR
    assert main(["evaluate-separation", "--data", str(tiny_songs), "--songs", "1", "--ckpt", str(ckpt), "--ckpt", str(ckpt)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "given twice" in err[0]


@pytest.mark.slow
def test_evaluate_scores_separation_and_arrangement_from_the_mix(mix_run, tiny_composer_run, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from jen_composer.cli.main import main

    args = ["evaluate", "--ckpt", str(mix_run[1].last_checkpoint), "--tasks", "separation,arrangement", "--clips", "1",
            "--seeds", "0", "--split", "train", "--out", str(tmp_path / "eval"), "evaluation.clip_seconds=1.0",
            "evaluation.fad.embedding=mel"]
    assert main(args) == 0
    rows = json.loads((tmp_path / "eval" / "results.json").read_text())["results"]
    assert [r["task"] for r in rows] == ["separation", "arrangement"] and all(r["clips"] == 1 for r in rows)
    capsys.readouterr()
    args[2] = str(tiny_composer_run[1].last_checkpoint)
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "trained without the mix track" in err[0]
