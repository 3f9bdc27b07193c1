"""Test helpers shared by several test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path


def tiny_composer_overrides(songs: Path, latents: Path, autoencoder: Path, out: Path) -> list[str]:
    """Overrides that shrink any composer experiment to a seconds-long CPU run on the tiny world."""
    return [
        f"data.root={songs}", f"data.latent_cache={latents}", "data.source=latents", "data.sample_rate=16000",
        "data.channels=1", "data.snippet_seconds=1.024", "data.batch_size=4", "data.num_workers=0",
        "data.pin_memory=false", "data.persistent_workers=false",
        f"composer.autoencoder={autoencoder}", "composer.text.kind=byt5_small", "composer.text.dim=32",
        "composer.text.layers=1", "composer.unet.base_channels=16", "composer.unet.channel_mults=[1,2]",
        "composer.unet.attention_levels=[1]", "composer.unet.cross_attention_dim=32", "composer.unet.res_blocks=1",
        "composer.unet.attention_heads=2", "composer.unet.norm_groups=8", "composer.unet.gradient_checkpointing=false",
        "composer.sampler.steps=3", "trainer.accelerator=cpu", "trainer.devices=1", "trainer.strategy=auto",
        "trainer.precision=32-true", "trainer.progress_bar=false", "logger.kind=csv",
        "logger.preview.steps=2", "logger.preview.cfg_scales=[1.0]", "evaluation.every_n_val_epochs=0",
        f"output_root={out}",
    ]


def three_step_composer_run(songs: Path, latents: Path, autoencoder: Path, out: Path, *options: str):  # noqa: ANN201
    """A 3-step tiny composer run with ``options`` (validated, checkpointed and previewed at step 3):
    ``(resolved config, FitResult)``."""
    from jen_composer.core.config import compose
    from jen_composer.training.fit import fit

    repo = Path(__file__).resolve().parents[1]
    cfg = compose(repo / "experiments/composer/tiny.yaml", [
        *tiny_composer_overrides(songs, latents, autoencoder, out), "trainer.max_steps=3",
        "trainer.val_check_interval=3", "trainer.checkpoint_every_n_steps=3", "trainer.log_every_n_steps=1",
        "logger.preview.every_n_steps=3", *options,
    ])
    return cfg, fit(cfg)


def tiny_autoencoder_overrides(songs: Path, out: Path) -> list[str]:
    """Overrides that shrink any autoencoder experiment to a seconds-long CPU run (adversarial path on)."""
    return [
        f"data.root={songs}", "data.sample_rate=16000", "data.channels=1", "data.snippet_seconds=1.024",
        "data.batch_size=2", "data.num_workers=0", "data.pin_memory=false", "data.persistent_workers=false",
        "autoencoder.sample_rate=16000", "autoencoder.channels=1", "autoencoder.strides=[4,4]",
        "autoencoder.channel_mults=[1,2]", "autoencoder.base_channels=8", "autoencoder.latent_dim=8",
        "autoencoder.train_crop_seconds=0.25", "autoencoder.adversarial_start_step=0",
        "autoencoder.stft_fft_sizes=[256,128,64]", "autoencoder.disc_fft_sizes=[256,128]",
        "autoencoder.disc_channels=8", "autoencoder.mel_bins=32",
        "trainer.accelerator=cpu", "trainer.devices=1", "trainer.strategy=auto", "trainer.precision=32-true",
        "trainer.progress_bar=false", "logger.kind=csv", f"output_root={out}",
    ]


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def page_media(page: Path) -> dict[str, list]:
    """Open an HTML file from disk in headless Chromium; every player's (error code, duration), every
    image's (loaded, width), the score cells and the title."""
    import os

    import pytest

    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: the browser test cannot run")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        tab = browser.new_page()
        tab.goto(page.resolve().as_uri())
        tab.wait_for_function("[...document.querySelectorAll('audio')].every(a => a.readyState >= 1 || a.error)",
                              timeout=60000)
        tab.wait_for_function("[...document.querySelectorAll('img')].every(i => i.complete)", timeout=60000)
        out = {
            "audio": tab.evaluate("[...document.querySelectorAll('audio')].map(a => [a.error ? a.error.code : 0, a.duration])"),
            "images": tab.evaluate("[...document.querySelectorAll('img')].map(i => [i.complete, i.naturalWidth])"),
            "cells": tab.evaluate("[...document.querySelectorAll('[data-testid=scores] td')].map(c => c.textContent)"),
            "title": [tab.title()],
        }
        browser.close()
    return out
