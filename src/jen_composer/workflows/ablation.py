"""`run_ablation`: train every row of a manifest at every seed, evaluate it, write one table.

Rows whose training config is identical (same run id, e.g. `+interactive` and `+curriculum`) are
trained once. Each row is evaluated with its own `evaluation` settings.

Resumable: every finished training and every finished row-seed evaluation leaves a marker in the
output folder (`state/`). Rerunning the same command skips what is marked, continues an interrupted
training from its `last.ckpt`, and writes the table again (marked partial while row-seeds are missing).

W&B: every run of the ablation (training and evaluation) carries group = the manifest's title and
job_type = the row's label, so the table can be rebuilt there.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from jen_composer.core.checkpoints import checkpoint_step
from jen_composer.core.config import compose, run_dir, run_id
from jen_composer.core.config.ablation import AblationManifest, AblationRow
from jen_composer.core.config.loader import check_keys
from jen_composer.core.errors import CheckpointError, ConfigError
from jen_composer.core.io import atomic_write_json
from jen_composer.metrics.report import SystemResult
from jen_composer.workflows.ablation_table import RowResult, column_value, write_table

Train = Callable[[DictConfig], Path]  # config -> last checkpoint
Evaluate = Callable[[Path, Path, DictConfig, str], SystemResult]  # checkpoint, out, cfg, row label -> row result

__all__ = ["column_value", "load_manifest", "run_ablation", "write_table"]


def load_manifest(path: Path) -> AblationManifest:
    if not path.is_file():
        raise ConfigError(f"{path}: manifest not found")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with title, rows, seeds, overrides, columns")
    schema = OmegaConf.structured(AblationManifest)
    check_keys(data, schema, str(path))
    for i, row in enumerate(data.get("rows") or []):
        check_keys(row, OmegaConf.structured(AblationRow), f"{path} (rows[{i}])")
    manifest: AblationManifest = OmegaConf.to_object(OmegaConf.merge(schema, data))  # type: ignore[assignment]
    if not manifest.rows:
        raise ConfigError(f"{path}: 'rows' is empty")
    labels = [r.label for r in manifest.rows]
    if len(set(map(slug, labels))) != len(labels):
        raise ConfigError(f"{path}: row labels must be distinct (after lower-casing): {labels}")
    return manifest


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _fit_checkpoint(cfg: DictConfig) -> Path:
    from jen_composer.training.fit import fit

    last = fit(cfg).last_checkpoint
    if last is None:
        raise ConfigError(f"{cfg.name}: training wrote no checkpoint")
    return last


def _evaluate(checkpoint: Path, out: Path, cfg: DictConfig, label: str, autoencoder: str | None = None) -> SystemResult:
    from jen_composer.workflows.evaluate import evaluate_checkpoint

    rows, _ = evaluate_checkpoint(checkpoint, out, overrides=cfg.evaluation, name_prefix=f"{label}: ",
                                  autoencoder=autoencoder)
    return rows[0]


def evaluate_through(autoencoder: str | None) -> Evaluate:
    """The row evaluation, decoding through ``autoencoder`` (a same-checksum re-export) when given:
    the same trained rows scored again with another decoding, into another ``--out``."""
    return functools.partial(_evaluate, autoencoder=autoencoder) if autoencoder else _evaluate


class AblationState:
    """Markers of finished trainings (by run id) and finished row-seeds, inside the output folder."""

    def __init__(self, out: Path) -> None:
        self.folder = out / "state"

    def _trained(self, key: str) -> Path:
        return self.folder / "trained" / f"{key}.json"

    def _done(self, label: str, seed: int) -> Path:
        return self.folder / "done" / f"{slug(label)}-seed{seed}.json"

    def checkpoint(self, key: str) -> Path | None:
        import json

        path = self._trained(key)
        if not path.is_file():
            return None
        ckpt = Path(json.loads(path.read_text())["checkpoint"])
        return ckpt if ckpt.is_file() else None

    def mark_trained(self, key: str, checkpoint: Path, info: dict[str, Any]) -> None:
        atomic_write_json(self._trained(key), {"checkpoint": str(checkpoint), **info})

    def result(self, label: str, seed: int) -> SystemResult | None:
        import json

        path = self._done(label, seed)
        return SystemResult.from_dict(json.loads(path.read_text())["result"]) if path.is_file() else None

    def check_decoding(self, label: str, seed: int, autoencoder: str | None) -> None:
        """A finished row-seed scored through another autoencoder than asked is an error, not a reused score."""
        import json

        path = self._done(label, seed)
        scored = json.loads(path.read_text()).get("autoencoder") if path.is_file() else autoencoder
        if scored != autoencoder:
            raise ConfigError(f"{path}: scored with decoding autoencoder {scored!r}, "
                              f"not {autoencoder!r}: pass another --out for a table decoded another way")

    def mark_done(self, label: str, seed: int, result: SystemResult, info: dict[str, Any]) -> None:
        atomic_write_json(self._done(label, seed), {"result": result.to_dict(), **info})


def row_config(manifest: AblationManifest, row: AblationRow, seed: int, extra: Sequence[str], root: Path) -> DictConfig:
    """The row's experiment at `seed` with the manifest's and the command line's overrides, W&B-labelled."""
    cfg = compose(root / row.experiment, [*manifest.overrides, *extra, f"seed={seed}"])
    cfg.logger.group = manifest.title  # set after composing: titles may hold YAML-significant characters
    cfg.logger.job_type = row.label
    return cfg


def finished_training(cfg: DictConfig) -> Path | None:
    """The run folder's last.ckpt when it reached ``trainer.max_steps``, else None."""
    last = run_dir(cfg) / "checkpoints" / "last.ckpt"
    if not last.is_file():
        return None
    try:
        return last if checkpoint_step(last) >= int(cfg.trainer.max_steps) > 0 else None
    except CheckpointError:
        return None  # resuming from it names what is wrong with it


def _train_or_resume(cfg: DictConfig, train: Train, log: Callable[[str], None]) -> Path:
    """Train `cfg`, continuing from its run folder's last.ckpt when an earlier attempt was interrupted
    (and returning that checkpoint when it already reached ``trainer.max_steps``)."""
    done = finished_training(cfg)
    if done is not None:  # e.g. trained by another manifest with the same rows
        log(f"   reusing the finished training {done}")
        return done
    last = run_dir(cfg) / "checkpoints" / "last.ckpt"
    if last.is_file():
        log(f"   continuing the interrupted training from {last}")
        cfg = cfg.copy()
        cfg.trainer.resume = str(last)
    return train(cfg)


def collect_rows(manifest: AblationManifest, state: AblationState) -> list[RowResult]:
    """Every row with the row-seeds finished so far (the others listed as missing)."""
    rows = []
    for row in manifest.rows:
        found = {seed: state.result(row.label, seed) for seed in manifest.seeds}
        seeds = [s for s, r in found.items() if r is not None]
        rows.append(RowResult(row.label, row.experiment, seeds, [found[s] for s in seeds],  # type: ignore[misc]
                              [s for s in manifest.seeds if found[s] is None]))
    return rows


def run_ablation(manifest_path: Path, extra_overrides: Sequence[str] = (), out_dir: Path | None = None,
                 root: Path = Path("."), log: Callable[[str], None] = print,
                 train: Train = _fit_checkpoint, evaluate: Evaluate | None = None,
                 table_only: bool = False, seeds: Sequence[int] | None = None,
                 autoencoder: str | None = None) -> dict[str, Path]:
    """Run (or continue) every row-seed of the manifest and write the table; returns the table's files.

    The table is rewritten after every finished row-seed, so an interrupted run leaves a partial one;
    `table_only` writes it from the finished row-seeds without training or evaluating anything.
    `seeds` runs only those of the manifest's seeds: one worker per seed (processes on one machine, or
    a job array) shares the output folder, since every marker file belongs to one row-seed.
    ``autoencoder`` decodes every row through that re-export (`evaluate_through`); each row-seed's marker
    records it, and a folder scored another way is refused.
    """
    if autoencoder is not None:
        autoencoder = os.path.normpath(autoencoder)  # ./x, x/ and x name one decoding
        if not Path(autoencoder).is_dir():
            raise ConfigError(f"--autoencoder {autoencoder}: not an exported autoencoder folder")
    evaluate = evaluate or evaluate_through(autoencoder)
    manifest = load_manifest(manifest_path)
    unknown = sorted(set(seeds or ()) - set(manifest.seeds))
    if unknown:
        raise ConfigError(f"--seeds {unknown}: not among {manifest_path}'s seeds {list(manifest.seeds)}")
    default = slug(manifest.title) + (f"-{slug(Path(autoencoder).name)}" if autoencoder else "")
    out = out_dir or Path("runs") / "ablations" / default
    state = AblationState(out)
    for row in manifest.rows:  # every seed, also those another worker runs: one table, one decoding
        for seed in manifest.seeds:
            state.check_decoding(row.label, seed, autoencoder)
    notes = ["", f"Decoded through `{autoencoder}` (`ablate --autoencoder`), not the checkpoints' own autoencoder."] if autoencoder else []
    # Seeds outer, rows inner: an interrupted run leaves every row with the same seeds done.
    for seed in [] if table_only else [s for s in manifest.seeds if seeds is None or s in seeds]:
        for row in manifest.rows:
            tag = f"== {row.label} (seed {seed})"
            cfg = row_config(manifest, row, seed, extra_overrides, root)
            if state.result(row.label, seed) is not None:
                log(f"{tag}: finished earlier, skipping")
                continue
            key = run_id(cfg)
            checkpoint = state.checkpoint(key)
            if checkpoint is None:
                if autoencoder is not None:  # a re-score never trains
                    checkpoint = finished_training(cfg)
                    if checkpoint is None:
                        raise ConfigError(f"{row.label} (seed {seed}): no finished training in {run_dir(cfg)}; --autoencoder "
                                          f"only scores trained rows again: run the ablation without it first")
                    log(f"{tag}: reusing the finished training {checkpoint}")
                else:
                    log(f"{tag}: training {row.experiment} (run {key})")
                    checkpoint = _train_or_resume(cfg, train, log)
                state.mark_trained(key, checkpoint, {"row": row.label, "seed": seed, "experiment": row.experiment})
            else:
                log(f"{tag}: reusing the finished training run {key}")
            result = evaluate(checkpoint, out / slug(row.label) / f"seed{seed}", cfg, row.label)
            state.mark_done(row.label, seed, result, {"checkpoint": str(checkpoint), "run_id": key, "autoencoder": autoencoder})
            log_wandb_result(cfg, seed, result, manifest.columns, autoencoder)
            write_table(manifest, collect_rows(manifest, state), out, notes, plot=False, autoencoder=autoencoder)
    return write_table(manifest, collect_rows(manifest, state), out, notes, autoencoder=autoencoder)


def log_wandb_result(cfg: DictConfig, seed: int, result: SystemResult, columns: Sequence[str],
                     autoencoder: str | None = None) -> None:
    """With `logger.kind=wandb`, one evaluation run per row-seed (group = title, job_type = row label);
    a re-score through ``autoencoder`` says so in its name and config."""
    if cfg.logger.kind != "wandb":
        return
    import wandb

    from jen_composer.training.loggers import wandb_mode

    decoded = f"-decoded-{slug(Path(autoencoder).name)}" if autoencoder else ""
    run = wandb.init(project=cfg.logger.project, entity=cfg.logger.entity or None, group=cfg.logger.group,
                     job_type=cfg.logger.job_type, name=f"{slug(cfg.logger.job_type)}-seed{seed}-eval{decoded}",
                     config={"seed": seed, "run_id": run_id(cfg), "row": cfg.logger.job_type, "autoencoder": autoencoder},
                     mode=wandb_mode(), dir=str(run_dir(cfg)), reinit="finish_previous")
    run.summary.update({c: column_value(result, c) for c in columns})
    run.finish()
