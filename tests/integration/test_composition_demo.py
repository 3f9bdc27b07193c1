"""`jen-composer demo` end to end at toy size, with a toy bundle; a second render of the same settings is reused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from jen_composer.core.config import compose
from jen_composer.inference import bundle
from jen_composer.workflows.demo import COMPOSER_EXPERIMENT, COMPOSER_SHORT, run_demo
from jen_composer.workflows.demo_scores import PASS
from jen_composer.workflows.train_pipeline import render_benchmark
from tests.helpers import page_media, tiny_autoencoder_overrides, tiny_composer_overrides

ROOT = Path(__file__).resolve().parents[2]
PATH_KEYS = ("data.root=", "data.latent_cache=", "composer.autoencoder=", "output_root=")
TOY = ["data.synth.songs=10", "data.synth.seconds=6", "trainer.max_steps=2", "trainer.val_check_interval=2"]


def _without_paths(overrides: list[str]) -> list[str]:
    return [o for o in overrides if not o.startswith(PATH_KEYS)]


@pytest.mark.slow
def test_demo_end_to_end_toy_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_composer_run) -> None:  # type: ignore[no-untyped-def]
    cfg, run = tiny_composer_run
    toy_bundle = tmp_path / "bundle"
    bundle.write_bundle(run.last_checkpoint, Path(cfg.composer.autoencoder), toy_bundle, {"command": "test"})
    monkeypatch.chdir(tmp_path)
    dummy = Path("unused")
    composer = [*_without_paths(tiny_composer_overrides(dummy, dummy, dummy, dummy)), *TOY]
    autoencoder = [*_without_paths(tiny_autoencoder_overrides(dummy, dummy)), *TOY]
    lines: list[str] = []
    result = run_demo(ROOT, composer, log=lines.append, ae_overrides=autoencoder, bundle=toy_bundle)
    assert list(result.seconds) == ["render", "autoencoder", "encode", "composer", "generate", "score"]
    assert sum(line.lstrip().startswith("[") and "/6] " in line for line in lines) == 6
    assert set(result.samples) == {"joint", "given_drums_bass", "given_other_drums_bass", "session_round3"}
    for folder in result.samples.values():
        stems = sorted(folder.glob("*.wav"))
        assert len(stems) == 5 and (folder / "spectrogram.png").is_file()  # 4 stems + mix
        assert len({sf.info(p).frames for p in stems}) == 1  # aligned
    assert sorted(p.name for p in result.samples["given_drums_bass"].glob("*_kept.wav")) == ["bass_kept.wav", "drums_kept.wav"]
    session = json.loads((result.page.parent / "session" / "session.json").read_text())
    assert len(session["rounds"]) == 3 and sorted(session["kept"]) == ["bass", "drums"]
    rows = json.loads((result.page.parent / "scores.json").read_text())
    assert rows and {r["track"] for r in rows} <= {"instrument", "melody"}
    assert all({"generated", "joint", "a tritone up", PASS} <= set(r) for r in rows)
    timings = json.loads((result.page.parent / "timings.json").read_text())
    assert timings["matmul_gflops"] > 0 and set(timings["seconds"]) == set(result.seconds)
    seen = page_media(result.page)
    assert len(seen["audio"]) == 4 * 5 and all(code == 0 and duration > 1 for code, duration in seen["audio"])
    assert len(seen["images"]) == 4 and all(ok and width > 300 for ok, width in seen["images"])
    assert len(seen["cells"]) == len(rows) * len(rows[0])
    before = sorted(p.stat().st_mtime for p in result.data_root.rglob("*.wav"))
    render_benchmark(compose(ROOT / COMPOSER_EXPERIMENT, [*COMPOSER_SHORT, *composer]), lines.append)
    assert "reusing" in lines[-1] and sorted(p.stat().st_mtime for p in result.data_root.rglob("*.wav")) == before
