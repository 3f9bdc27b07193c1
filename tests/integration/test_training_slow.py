"""Scale and robustness: 2-process DDP on CPU, bf16-mixed on CPU, and SIGKILL-then-resume equality."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import lightning.pytorch as pl
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


def _assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    differing = [k for k in wa if not torch.equal(wa[k], wb[k])]
    assert not differing, f"{len(differing)} of {len(wa)} tensors differ after resume, e.g. {differing[:3]}"


class _Snapshots(pl.Callback):
    """Copy every checkpoint file as it appears (the best one is replaced later in the run)."""

    def __init__(self, into: Path) -> None:
        self.into = into

    def on_train_batch_start(self, trainer, module, batch, i) -> None:  # noqa: ANN001
        self.into.mkdir(exist_ok=True)
        for path in (Path(trainer.default_root_dir) / "checkpoints").glob("*.ckpt"):
            if not path.is_symlink() and not (self.into / path.name).exists():
                shutil.copy(path, self.into / path.name)


def test_resume_from_epoch_end_and_validation_checkpoints_is_exact(world, tmp_path: Path) -> None:
    """20 snippets / batch 4 = 5 batches an epoch: step 5 is the epoch's last batch and a validation step."""
    n = 8
    common = [*_overrides(world, tmp_path), "trainer.checkpoint_every_n_steps=5", "trainer.val_check_interval=5",
              "trainer.optimizer.scheduler=constant", f"trainer.max_steps={n}"]
    snaps = tmp_path / "snapshots"
    straight = fit(compose(EXPERIMENT, [*common, f"output_root={tmp_path / 'straight'}"]), extra_callbacks=[_Snapshots(snaps)])
    assert straight.trainer.num_training_batches == 5
    for name in ("step0000005.ckpt", "best-step0000005.ckpt"):  # saved on the last batch / after its validation
        resumed = fit(compose(EXPERIMENT, [*common, f"trainer.resume={snaps / name}", f"output_root={tmp_path / name}"]))
        assert resumed.trainer.global_step == n
        _assert_same_weights(straight.last_checkpoint, resumed.last_checkpoint)


def _cli(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("jen-composer")
    return [str(script), *args] if script.is_file() else [sys.executable, "-m", "jen_composer.cli.main", *args]


def _kill_when(proc: subprocess.Popen, root: Path, pattern: str, log: Path) -> None:
    """SIGKILL the whole process group (every DDP rank) as soon as a checkpoint matching `pattern` exists."""
    deadline = time.time() + 300
    try:
        while time.time() < deadline and proc.poll() is None and not list(root.rglob(pattern)):
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert list(root.rglob(pattern)), f"no {pattern} appeared: {log.read_text()[-2000:]}"
    assert proc.returncode == -signal.SIGKILL, "the run finished before it was killed"


def _readme_resume(world, tmp_path: Path, extra: list[str], pattern: str) -> tuple[Path, str]:
    """The README's two commands, the first killed mid-run: `jen-composer fit EXP ... [trainer.resume=last]`."""
    root = tmp_path / "runs"
    first = _cli("fit", "experiments/composer/tiny.yaml", *_overrides(world, tmp_path), *extra, f"output_root={root}",
                 "logger.kind=wandb")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "WANDB_MODE": "disabled"}
    log = tmp_path / "killed.log"
    proc = subprocess.Popen(first, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                            start_new_session=True)
    _kill_when(proc, root, pattern, log)
    res = subprocess.run([*first, "trainer.resume=last"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    folders = [p.parent for p in root.rglob("config.yaml")]
    assert len(folders) == 1, f"the resumed run went to a new folder: {folders}"
    return folders[0], res.stderr


def test_readme_resume_last_command_continues_the_killed_run(world, tmp_path: Path) -> None:
    n = 8
    common = ["trainer.checkpoint_every_n_steps=3", "trainer.val_check_interval=1000",
              "trainer.optimizer.scheduler=constant", f"trainer.max_steps={n}"]
    straight = fit(compose(EXPERIMENT, [*_overrides(world, tmp_path), *common, f"output_root={tmp_path / 'straight'}"]))
    folder, stderr = _readme_resume(world, tmp_path, common, "step0000003.ckpt")
    assert "resuming from " in stderr and "last.ckpt" in stderr
    _assert_same_weights(straight.last_checkpoint, folder / "checkpoints" / "last.ckpt")


def test_ddp_two_processes_killed_mid_epoch_resume_exactly(world, tmp_path: Path) -> None:
    """2-process gloo DDP, 20 snippets / 2 ranks / batch 2 = 5 batches an epoch; killed after step 3, resumed."""
    n = 8
    common = ["trainer.devices=2", "trainer.strategy=ddp", "data.batch_size=2", "trainer.checkpoint_every_n_steps=3",
              "trainer.val_check_interval=4", "trainer.optimizer.scheduler=constant", f"trainer.max_steps={n}"]
    straight_root = tmp_path / "straight"
    res = subprocess.run(_cli("fit", str(EXPERIMENT), *_overrides(world, tmp_path), *common, f"output_root={straight_root}"),
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    folder, stderr = _readme_resume(world, tmp_path, common, "step0000003.ckpt")
    assert "resuming from " in stderr
    straight_last = next(straight_root.rglob("last.ckpt"))
    assert torch.load(straight_last, weights_only=True)["global_step"] == n
    _assert_same_weights(straight_last, folder / "checkpoints" / "last.ckpt")


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
