"""Shared fixtures: offline environment, the repository root, tiny configs in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def one_thread():  # noqa: ANN201
    """Tiny tensor ops on 2 shared cores: one intra-op thread is several times faster than two."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def experiment_tree(tmp_path: Path) -> Path:
    """A throw-away project tree with configs/ and experiments/ for config-composition tests."""
    (tmp_path / "configs" / "data").mkdir(parents=True)
    (tmp_path / "configs" / "trainer").mkdir(parents=True)
    (tmp_path / "experiments").mkdir()
    (tmp_path / "configs" / "data" / "small.yaml").write_text("sample_rate: 8000\nbatch_size: 3\n")
    (tmp_path / "configs" / "trainer" / "quick.yaml").write_text("max_steps: 7\noptimizer: {lr: 0.01}\n")
    (tmp_path / "experiments" / "exp.yaml").write_text(
        "defaults: [data/small, trainer/quick]\nname: exp\ntags: [a]\nseed: 3\ndata: {batch_size: 5}\n"
    )
    return tmp_path


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Make the CLI's `--ckpt ANYTHING` load the FakeEngine (the product CLI has no test engine)."""
    from jen_composer.inference import engine as engine_module
    from tests.fakes import FakeEngine

    made: list[FakeEngine] = []

    def load(_ckpt: str) -> FakeEngine:
        made.append(FakeEngine())
        return made[-1]

    monkeypatch.setattr(engine_module, "load_engine", load)
    return made


@pytest.fixture
def random_clap(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Register the random-weight laion CLAP as backend ``random``; returns the overrides that pick it."""
    from jen_composer.metrics.clap import BACKENDS
    from tests.fakes.clap import random_clap_scorer

    monkeypatch.setitem(BACKENDS, "random", random_clap_scorer)
    return ["evaluation.clap.backend=random", "evaluation.clap.amodel=HTSAT-tiny"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `gpu` tests cleanly when CUDA is absent (they are deselected by default anyway)."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


# -- a tiny end-to-end world, built once per test session: songs -> autoencoder -> latents ------

TINY_SONGS, TINY_SECONDS = 6, 6.0


@pytest.fixture(scope="session")
def tiny_songs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six rendered songs of 6 s (16 kHz mono) from the procedural benchmark."""
    from jen_composer.core.config.data import SynthConfig
    from jen_composer.data.synth import synth_dataset

    root = tmp_path_factory.mktemp("songs")
    synth_dataset(root, SynthConfig(songs=TINY_SONGS, seconds=TINY_SECONDS, seed=0), 16000, 1, progress=False)
    return root


@pytest.fixture(scope="session")
def tiny_autoencoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An exported random-weight tiny VAE (hop 16, 8 dims): enough to exercise every code path."""
    from jen_composer.core.config import compose
    from jen_composer.models.autoencoder import WaveformVAE, export_autoencoder

    cfg = compose(None, ["autoencoder.strides=[4,4]", "autoencoder.channel_mults=[1,2]", "autoencoder.latent_dim=8", "autoencoder.base_channels=8"])
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("autoencoder")
    export_autoencoder(WaveformVAE(cfg.autoencoder), out)
    return out


@pytest.fixture(scope="session")
def tiny_latents(tiny_songs: Path, tiny_autoencoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from jen_composer.core.config import compose
    from jen_composer.data.latent_cache import encode_latent_cache
    from jen_composer.models.autoencoder import load_autoencoder

    out = tmp_path_factory.mktemp("latents")
    cfg = compose(None, [f"data.root={tiny_songs}"])
    encode_latent_cache(tiny_songs, out, load_autoencoder(tiny_autoencoder), cfg.data, progress=False, with_mix=True)
    return out


@pytest.fixture(scope="session")
def tiny_composer_run(tiny_songs: Path, tiny_latents: Path, tiny_autoencoder: Path,
                      tmp_path_factory: pytest.TempPathFactory):
    """A 4-step composer run on the tiny world: (resolved config, FitResult)."""
    from jen_composer.core.config import compose
    from jen_composer.training.fit import fit
    from tests.helpers import tiny_composer_overrides

    out = tmp_path_factory.mktemp("runs")
    cfg = compose(REPO_ROOT / "experiments/composer/tiny.yaml", [
        *tiny_composer_overrides(tiny_songs, tiny_latents, tiny_autoencoder, out),
        "trainer.max_steps=4", "trainer.val_check_interval=2", "trainer.checkpoint_every_n_steps=2",
        "trainer.log_every_n_steps=1", "logger.preview.every_n_steps=4",
    ])
    return cfg, fit(cfg)
