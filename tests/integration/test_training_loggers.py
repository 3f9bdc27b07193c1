"""The composer trains with the W&B logger (offline, no account) and with TensorBoard; previews reach both."""

from __future__ import annotations

from pathlib import Path

import pytest

from jen_composer.core.config import compose
from jen_composer.training.fit import fit
from tests.helpers import tiny_composer_overrides

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", ["wandb", "tensorboard"])
def test_rich_loggers_receive_metrics_and_previews(kind: str, tiny_songs, tiny_latents, tiny_autoencoder, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    cfg = compose(ROOT / "experiments/composer/tiny.yaml", [
        *tiny_composer_overrides(tiny_songs, tiny_latents, tiny_autoencoder, tmp_path), f"logger.kind={kind}",
        "trainer.max_steps=2", "trainer.val_check_interval=2", "logger.preview.every_n_steps=2",
    ])
    result = fit(cfg)
    if kind == "wandb":
        runs = list((result.run_dir / "wandb").glob("offline-run-*"))
        assert runs and any(runs[0].rglob("*.wandb"))
        media = list(runs[0].rglob("*.wav")) + list(runs[0].rglob("*.png"))
        assert media, "preview audio/images were not logged to W&B"
    else:
        assert list((result.run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert list((result.run_dir / "previews").rglob("mix.wav"))


def test_clap_score_callback_logs_per_track_and_mix(tiny_songs, tiny_latents, tiny_autoencoder, tmp_path: Path,
                                                    random_clap) -> None:
    import csv

    cfg = compose(ROOT / "experiments/composer/tiny.yaml", [
        *tiny_composer_overrides(tiny_songs, tiny_latents, tiny_autoencoder, tmp_path), "trainer.max_steps=2",
        "trainer.val_check_interval=2", "logger.preview.every_n_steps=0", "evaluation.every_n_val_epochs=1",
        *random_clap, "evaluation.prompts=[funky bass,calm piano]",
    ])
    result = fit(cfg)
    rows = list(csv.DictReader(open(result.run_dir / "logs" / "metrics.csv")))
    logged = {k: float(r[k]) for r in rows for k in r if k.startswith("clap/") and r[k]}
    assert set(logged) == {"clap/bass", "clap/drums", "clap/instrument", "clap/melody", "clap/mix"}
    assert all(-1.0 <= v <= 1.0 for v in logged.values())
