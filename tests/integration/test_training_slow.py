"""Scale and robustness: 2-process DDP on CPU, bf16-mixed on CPU, and SIGKILL-then-resume equality."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from jen_composer.core.config import compose
from jen_composer.training.fit import fit
from tests.helpers import tiny_composer_overrides

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "experiments" / "composer" / "tiny.yaml"
pytestmark = pytest.mark.slow


def _overrides(world, tmp_path: Path) -> list[str]:
    songs, latents, autoencoder = world
    return [*tiny_composer_overrides(songs, latents, autoencoder, tmp_path), "logger.preview.every_n_steps=0"]


@pytest.fixture
def world(tiny_songs: Path, tiny_latents: Path, tiny_autoencoder: Path):
    return tiny_songs, tiny_latents, tiny_autoencoder


def test_bf16_mixed_cpu_trains_without_nan(world, tmp_path: Path) -> None:
    cfg = compose(EXPERIMENT, [*_overrides(world, tmp_path), "trainer.precision=bf16-mixed", "trainer.max_steps=4",
                               "trainer.val_check_interval=4"])
    result = fit(cfg)
    assert result.trainer.global_step == 4
    for name, value in result.trainer.callback_metrics.items():
        assert torch.isfinite(value).all(), name
    assert all(torch.isfinite(p).all() for p in result.module.parameters())


def test_ddp_two_cpu_processes_keep_weights_and_curriculum_identical(world, tmp_path: Path) -> None:
    """Lightning's DDP launcher re-runs this script as rank 1; every rank writes what it ended with."""
    script = tmp_path / "ddp_run.py"
    overrides = [*_overrides(world, tmp_path), "trainer.devices=2", "trainer.strategy=ddp", "trainer.max_steps=4",
                 "trainer.val_check_interval=4", "data.batch_size=2"]
    script.write_text(textwrap.dedent(f"""
        import sys, torch, lightning.pytorch as pl
        sys.path.insert(0, {str(ROOT)!r})
        from jen_composer.core.config import compose
        from jen_composer.training.fit import fit

        class Dump(pl.Callback):
            def __init__(self): self.probs = []
            def on_train_batch_start(self, trainer, module, batch, i): self.probs.append(list(module.tasks.stage_probs))
            def on_train_end(self, trainer, module):
                flat = torch.cat([p.detach().flatten() for p in module.parameters()])
                torch.save({{"weights": flat, "probs": self.probs, "world": trainer.world_size}},
                           {str(tmp_path)!r} + f"/rank{{trainer.global_rank}}.pt")

        fit(compose({str(EXPERIMENT)!r}, {overrides!r}), extra_callbacks=[Dump()])
    """))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    res = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    assert r0["world"] == r1["world"] == 2
    assert torch.equal(r0["weights"], r1["weights"])
    assert r0["probs"] == r1["probs"] and len(r0["probs"]) == 4


def _weights(ckpt: Path) -> dict[str, torch.Tensor]:
    return torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]


def test_sigkill_then_resume_matches_uninterrupted_run(world, tmp_path: Path) -> None:
    n, half = 8, 4
    common = [*_overrides(world, tmp_path), f"trainer.checkpoint_every_n_steps={half}", "trainer.val_check_interval=1000",
              "trainer.optimizer.scheduler=constant"]
    straight = fit(compose(EXPERIMENT, [*common, f"trainer.max_steps={n}", f"output_root={tmp_path / 'straight'}"]))

    killed_root = tmp_path / "killed"
    cmd = [sys.executable, "-m", "jen_composer.cli.main", "fit", str(EXPERIMENT), *common,
           "trainer.max_steps=100000", f"output_root={killed_root}"]
    log = tmp_path / "killed.log"
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    deadline = time.time() + 300
    ckpt = None
    try:
        while time.time() < deadline and proc.poll() is None:
            found = list(killed_root.rglob(f"step{half:07d}.ckpt"))
            if found:
                ckpt = found[0]
                break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert ckpt is not None, f"no step-{half} checkpoint appeared: {log.read_text()[-2000:]}"
    assert proc.returncode == -signal.SIGKILL  # really killed mid-run, not finished
    for path in killed_root.rglob("*.ckpt"):  # whatever the kill interrupted, every .ckpt is whole
        torch.load(path, map_location="cpu", weights_only=True)
    resumed = fit(compose(EXPERIMENT, [*common, f"trainer.max_steps={n}", f"trainer.resume={ckpt}",
                                       f"output_root={tmp_path / 'resumed'}"]))
    a, b = _weights(straight.last_checkpoint), _weights(resumed.last_checkpoint)
    assert a.keys() == b.keys()
    differing = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differing, f"{len(differing)} tensors differ after resume, e.g. {differing[:3]}"
