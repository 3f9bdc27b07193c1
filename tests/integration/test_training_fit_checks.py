"""`fit` refuses inputs that would train silently wrong, before it writes a run folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from jen_composer.core.config import compose
from jen_composer.core.errors import DataError
from jen_composer.training.fit import fit
from jen_composer.training.rng import ResumeStateCallback
from tests.helpers import tiny_composer_overrides

ROOT = Path(__file__).resolve().parents[2]


def test_fit_refuses_latents_of_another_autoencoder(tiny_songs, tiny_latents, tmp_path: Path) -> None:
    from jen_composer.models.autoencoder import WaveformVAE, export_autoencoder

    cfg = compose(None, ["autoencoder.strides=[4,4]", "autoencoder.channel_mults=[1,2]", "autoencoder.latent_dim=8",
                         "autoencoder.base_channels=8"])
    torch.manual_seed(1)  # same geometry as the cache's encoder, other weights
    other = tmp_path / "other-autoencoder"
    export_autoencoder(WaveformVAE(cfg.autoencoder), other)
    runs = tmp_path / "runs"
    overrides = [*tiny_composer_overrides(tiny_songs, tiny_latents, other, runs), "trainer.max_steps=1"]
    with pytest.raises(DataError, match="encoder checksum") as err:
        fit(compose(ROOT / "experiments/composer/tiny.yaml", overrides))
    assert "\n" not in str(err.value)
    assert not runs.exists()  # refused before any run folder is written


@pytest.mark.gpu
def test_cuda_rng_state_saved_and_restored() -> None:
    callback, checkpoint = ResumeStateCallback(), {}
    torch.cuda.manual_seed_all(5)
    callback.on_save_checkpoint(None, None, checkpoint)  # type: ignore[arg-type]
    expected = torch.rand(3, device="cuda")
    torch.cuda.manual_seed_all(6)
    callback.on_load_checkpoint(None, None, checkpoint)  # type: ignore[arg-type]
    assert torch.equal(torch.rand(3, device="cuda"), expected)
