"""`jen-composer demo` end to end at toy size (twice: the second run reuses the rendered songs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from jen_composer.workflows.demo import run_demo
from tests.helpers import tiny_autoencoder_overrides, tiny_composer_overrides

ROOT = Path(__file__).resolve().parents[2]
PATH_KEYS = ("data.root=", "data.latent_cache=", "composer.autoencoder=", "output_root=")


def _without_paths(overrides: list[str]) -> list[str]:
    return [o for o in overrides if not o.startswith(PATH_KEYS)]


def test_demo_end_to_end_toy_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    dummy = Path("unused")
    composer = [*_without_paths(tiny_composer_overrides(dummy, dummy, dummy, dummy)),
                "data.synth.songs=6", "data.synth.seconds=6", "trainer.max_steps=2", "trainer.val_check_interval=2",
                "composer.sampler.steps=2"]
    autoencoder = [*_without_paths(tiny_autoencoder_overrides(dummy, dummy)), "data.synth.songs=6",
                   "data.synth.seconds=6", "trainer.max_steps=2", "trainer.val_check_interval=2"]
    lines: list[str] = []
    result = run_demo(ROOT, composer, log=lines.append, ae_overrides=autoencoder)
    for name in ("joint", "conditional"):
        folder = result.samples[name]
        stems = sorted(folder.glob("*.wav"))
        assert len(stems) == 5 and (folder / "spectrogram.png").is_file()  # 4 stems + mix
        assert len({sf.info(p).frames for p in stems}) == 1  # aligned
    assert sorted(p.name for p in result.samples["conditional"].glob("*_kept.wav")) == ["bass_kept.wav", "drums_kept.wav"]
    assert "beat_sync_joint" in json.loads(result.metrics_file.read_text())
    again = run_demo(ROOT, composer, log=lines.append, ae_overrides=autoencoder)
    assert any("reusing" in line for line in lines) and again.composer_checkpoint.is_file()
