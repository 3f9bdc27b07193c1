"""Data order and checkpoint retention that resuming relies on (fast, toy models)."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import pytest
from lightning.pytorch.demos.boring_classes import BoringModel

from jen_composer.core.config import compose
from jen_composer.core.config.runinfo import run_dir, run_id
from jen_composer.core.errors import ConfigError
from jen_composer.data.sampler import EpochSeededSampler
from jen_composer.training.checkpointing import PeriodicCheckpoint
from jen_composer.training.fit import resolve_resume


def test_sampler_ranks_partition_each_epoch_and_resume_skips_only_that_epoch() -> None:
    n, world = 11, 2
    shards = [EpochSeededSampler(n, seed=3, rank=r, world=world) for r in range(world)]
    for epoch in (0, 1):
        for s in shards:
            s.set_epoch(epoch)
        parts = [list(s) for s in shards]
        assert len(parts[0]) == len(parts[1]) == 6  # padded to equal length
        assert {i % n for p in parts for i in p} == set(range(n)) and all(i // n == epoch for p in parts for i in p)
    full = EpochSeededSampler(n, seed=3, rank=1, world=world)
    full.set_epoch(4)
    order = list(full)
    resumed = EpochSeededSampler(n, seed=3, rank=1, world=world)
    resumed.resume_at(4, 2)
    resumed.set_epoch(4)
    assert list(resumed) == order[2:]
    assert len(list(resumed)) == 6  # the skip is used once: the next epoch is whole
    finished = EpochSeededSampler(n, seed=3, rank=1, world=world)
    finished.resume_at(4, 6)  # a checkpoint on the epoch's last batch: Lightning moves on to epoch 5
    finished.set_epoch(5)
    assert len(list(finished)) == 6


def test_run_id_ignores_trainer_resume() -> None:
    """`trainer.resume=last` must look in the folder of the run it continues."""
    fresh, resumed = compose(None, ["trainer.max_steps=7"]), compose(None, ["trainer.max_steps=7", "trainer.resume=last"])
    assert run_id(fresh) == run_id(resumed) and run_dir(fresh) == run_dir(resumed)
    assert run_id(fresh) != run_id(compose(None, ["trainer.max_steps=8"]))


def test_resume_last_without_a_checkpoint_is_an_error(tmp_path: Path) -> None:
    cfg = compose(None, [f"output_root={tmp_path}", "trainer.resume=last"])
    with pytest.raises(ConfigError, match="nothing to resume"):
        resolve_resume(cfg, run_dir(cfg))
    assert not any(tmp_path.iterdir())


def test_periodic_checkpoints_keep_the_newest_two_including_epoch_ends(tmp_path: Path) -> None:
    """64 samples / batch 2 = 32 batches a BoringModel epoch; step 32 and 64 are epoch ends (the old deferral skipped them)."""
    periodic = PeriodicCheckpoint(str(tmp_path), every_n_train_steps=16)
    seen: list[list[str]] = []

    class Watch(pl.Callback):
        def on_train_batch_start(self, trainer, module, batch, i) -> None:  # noqa: ANN001
            seen.append(sorted(p.name for p in tmp_path.glob("step*.ckpt")))

    trainer = pl.Trainer(max_steps=70, val_check_interval=10, check_val_every_n_epoch=None, limit_val_batches=1,
                         callbacks=[periodic, Watch()], logger=False, enable_progress_bar=False,
                         enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(BoringModel())
    assert ["step0000016.ckpt", "step0000032.ckpt"] in seen  # step 32 = the end of epoch 0
    assert sorted(p.name for p in tmp_path.glob("step*.ckpt")) == ["step0000064.ckpt", "step0000070.ckpt"]
    assert (tmp_path / "last.ckpt").is_symlink() and (tmp_path / "last.ckpt").resolve().name == "step0000070.ckpt"
