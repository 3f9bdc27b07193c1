"""`ablate` is resumable: an interrupted run continues where it stopped and repeats no finished row-seed.

Training and evaluation are replaced by recording fakes (the real ones are covered by the slow
`test_ablate_tiny_manifest_builds_table`), so the whole kill-and-rerun cycle takes well under a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig

from jen_composer.core.config import run_dir
from jen_composer.core.config.ablation import AblationManifest, AblationRow
from jen_composer.metrics.report import SystemResult
from jen_composer.training.loggers import build_logger
from jen_composer.workflows.ablation import log_wandb_result, row_config, run_ablation


class Interrupted(Exception):
    """Stands in for a kill: raised from inside training or evaluation."""


class Fakes:
    def __init__(self) -> None:
        self.trained: list[tuple[str, int, str]] = []  # (job_type, seed, trainer.resume)
        self.evaluated: list[tuple[str, int]] = []
        self.tasks: list[list[str]] = []  # evaluation.tasks each evaluation was given
        self.kill_training_at: int | None = None  # the n-th training call writes last.ckpt, then dies
        self.kill_evaluation_at: int | None = None

    def train(self, cfg: DictConfig) -> Path:
        self.trained.append((cfg.logger.job_type, int(cfg.seed), str(cfg.trainer.resume)))
        last = run_dir(cfg) / "checkpoints" / "last.ckpt"
        last.parent.mkdir(parents=True, exist_ok=True)
        if self.kill_training_at == len(self.trained):
            last.write_text(f"seed {cfg.seed}")  # a torn write: resuming must take it from here
            raise Interrupted
        torch.save({"global_step": int(cfg.trainer.max_steps), "state_dict": {}}, last)
        return last

    def evaluate(self, checkpoint: Path, out: Path, cfg: DictConfig, label: str) -> SystemResult:
        self.evaluated.append((label, int(cfg.seed)))
        self.tasks.append(list(cfg.evaluation.tasks))
        if self.kill_evaluation_at == len(self.evaluated):
            raise Interrupted
        value = 0.1 * len(label) + 0.01 * int(cfg.seed)
        return SystemResult(name=label, clips=2, clap={"mix": value}, coherence={"beat_sync": 1.0 - value},
                            seeds=[0], task=str(cfg.evaluation.tasks[0]))


@pytest.fixture
def manifest(tmp_path: Path, repo_root: Path) -> Path:
    path = tmp_path / "table.yaml"
    rows = "".join(f"  - {{label: '{label}', experiment: {repo_root}/experiments/ablations/{name}.yaml}}\n"
                   for label, name in [("baseline", "baseline"), ("+ curriculum", "curriculum"),
                                       ("+ interactive", "interactive")])
    path.write_text(f"title: 'Table 2: tiny'\nrows:\n{rows}seeds: [0, 1]\n"
                    f"overrides: ['output_root={tmp_path / 'runs'}']\n"
                    "columns: [clap/mix, coherence/beat_sync]\n")
    return path


def _run(manifest: Path, out: Path, fakes: Fakes, log: list[str]) -> dict[str, Path]:
    return run_ablation(manifest, out_dir=out, log=log.append, train=fakes.train, evaluate=fakes.evaluate)


def test_killed_ablation_resumes_without_repeating_finished_row_seeds(manifest: Path, tmp_path: Path) -> None:
    out, first, log = tmp_path / "table", Fakes(), []
    first.kill_training_at = 2  # baseline seed 0 finishes; `+ curriculum` seed 0 dies mid-training
    with pytest.raises(Interrupted):
        _run(manifest, out, first, log)
    assert [(j, s) for j, s, _ in first.trained] == [("baseline", 0), ("+ curriculum", 0)]
    partial = (out / "table.md").read_text()
    assert "PARTIAL" in partial and "missing 0,1" in partial  # written after each finished row-seed

    second = Fakes()
    second.kill_evaluation_at = 3  # `+ curriculum` s0 resumes, `+ interactive` s0 reuses it, baseline s1 dies in evaluation
    with pytest.raises(Interrupted):
        _run(manifest, out, second, log)
    job, seed, resume = second.trained[0]
    assert (job, seed) == ("+ curriculum", 0)
    assert resume.startswith(str(tmp_path / "runs")) and resume.endswith("last.ckpt")  # continued, not restarted
    assert second.trained[1:] == [("baseline", 1, "")]
    assert second.evaluated == [("+ curriculum", 0), ("+ interactive", 0), ("baseline", 1)]

    third = Fakes()
    paths = _run(manifest, out, third, log)
    assert third.trained == [("+ curriculum", 1, "")]  # baseline s1 had finished training before its evaluation died
    assert third.evaluated == [("baseline", 1), ("+ curriculum", 1), ("+ interactive", 1)]
    assert sum("finished earlier, skipping" in line for line in log) == 1 + 3  # run 2: baseline s0; run 3: all of s0
    assert sum("reusing the finished training run" in line for line in log) == 3  # interactive x2 + baseline s1
    table = json.loads(paths["json"].read_text())
    assert not table["partial"] and [r["seeds"] for r in table["rows"]] == [[0, 1]] * 3
    baseline = table["rows"][0]["columns"]["clap/mix"]
    assert baseline["low"] < baseline["mean"] < baseline["high"]  # a 95% interval over the two seeds
    assert "PARTIAL" not in paths["markdown"].read_text() and paths["plot"].stat().st_size > 1000


def test_table_only_writes_the_finished_row_seeds(manifest: Path, tmp_path: Path) -> None:
    fakes = Fakes()
    fakes.kill_evaluation_at = 2
    with pytest.raises(Interrupted):
        _run(manifest, tmp_path / "t", fakes, [])
    paths = run_ablation(manifest, out_dir=tmp_path / "t", table_only=True, train=Fakes().train,
                         evaluate=Fakes().evaluate)
    rows = json.loads(paths["json"].read_text())["rows"]
    assert [(r["seeds"], r["missing_seeds"]) for r in rows] == [([0], [1]), ([], [0, 1]), ([], [0, 1])]


def test_ablation_runs_carry_wandb_group_and_job_type(manifest: Path, tmp_path: Path, repo_root: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    row = AblationRow("+ curriculum", str(repo_root / "experiments/ablations/curriculum.yaml"))
    cfg = row_config(AblationManifest(title="Table 2: x, y", rows=[row]), row, 1,
                     ["logger.kind=wandb", f"output_root={tmp_path}"], Path("."))
    monkeypatch.setenv("WANDB_MODE", "offline")
    logger = build_logger(cfg, tmp_path)
    assert (logger._wandb_init["group"], logger._wandb_init["job_type"]) == ("Table 2: x, y", "+ curriculum")

    import wandb

    calls: list[dict] = []

    class FakeRun:
        summary: dict = {}

        def finish(self) -> None:
            calls.append({"finished": True})

    monkeypatch.setattr(wandb, "init", lambda **kw: calls.append(kw) or FakeRun())
    log_wandb_result(cfg, 1, SystemResult(name="r", clips=1, clap={"mix": 0.5}), ["clap/mix"])
    assert (calls[0]["group"], calls[0]["job_type"]) == ("Table 2: x, y", "+ curriculum")
    assert FakeRun.summary == {"clap/mix": 0.5} and calls[-1] == {"finished": True}
    assert calls[0]["config"]["autoencoder"] is None and calls[0]["name"] == "curriculum-seed1-eval"
    log_wandb_result(cfg, 1, SystemResult(name="r", clips=1, clap={"mix": 0.5}), ["clap/mix"], "runs/export/ae-locked")
    assert calls[-2]["config"]["autoencoder"] == "runs/export/ae-locked"
    assert calls[-2]["name"] == "curriculum-seed1-eval-decoded-ae-locked"  # told apart from the first scoring


def test_one_worker_per_seed_shares_the_output_folder(manifest: Path, tmp_path: Path) -> None:
    out, log = tmp_path / "table", []
    second, first = Fakes(), Fakes()
    run_ablation(manifest, out_dir=out, log=log.append, train=second.train, evaluate=second.evaluate, seeds=[1])
    assert {s for _, s, _ in second.trained} == {1} and {s for _, s in second.evaluated} == {1}
    paths = run_ablation(manifest, out_dir=out, log=log.append, train=first.train, evaluate=first.evaluate, seeds=[0])
    assert {s for _, s, _ in first.trained} == {0}  # seed 1's row-seeds were not touched again
    table = json.loads(paths["json"].read_text())
    assert not table["partial"] and [r["seeds"] for r in table["rows"]] == [[0, 1]] * 3


def test_a_seed_outside_the_manifest_is_refused(manifest: Path, tmp_path: Path) -> None:
    from jen_composer.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"--seeds \[7\]: not among"):
        run_ablation(manifest, out_dir=tmp_path / "t", train=Fakes().train, evaluate=Fakes().evaluate, seeds=[7])


def test_a_second_manifest_rescores_the_same_trainings_on_another_task(manifest: Path, tmp_path: Path) -> None:
    """``evaluation.*`` overrides change what is scored, not what is trained: the run ids stay, the
    finished trainings are reused from their run folders (none repeated), every row-seed is scored
    on the new task."""
    first, log = Fakes(), []
    _run(manifest, tmp_path / "joint", first, log)
    rescore = tmp_path / "conditional.yaml"
    rescore.write_text(manifest.read_text().replace("title: 'Table 2: tiny'", "title: 'Table 2: tiny, conditional'")
                       .replace("overrides: ['", "overrides: ['evaluation.tasks=[conditional]', '"))
    second = Fakes()
    paths = _run(rescore, tmp_path / "conditional", second, log)
    assert second.trained == [] and sum(f"reusing the finished training {tmp_path}" in line for line in log) == 4  # 2 runs x 2 seeds
    assert len(second.evaluated) == 6 and second.tasks == [["conditional"]] * 6
    assert first.tasks[0] == ["joint"]
    rows = json.loads(paths["json"].read_text())["rows"]
    assert [r["seeds"] for r in rows] == [[0, 1]] * 3


def test_rescoring_through_a_re_export_reuses_the_trainings_and_records_the_decoding(manifest: Path, tmp_path: Path) -> None:
    """`ablate M --autoencoder DIR --out O`: the trained rows are reused, every row-seed is scored again
    (through DIR, which each marker and table.json record); a folder scored one way is never reused
    another way, not by --table-only nor by a worker of another seed."""
    from jen_composer.core.errors import ConfigError

    locked = tmp_path / "ae-locked"
    locked.mkdir()
    first, log = Fakes(), []
    _run(manifest, tmp_path / "as-trained", first, log)
    second = Fakes()
    paths = run_ablation(manifest, out_dir=tmp_path / "locked", log=log.append, train=second.train,
                         evaluate=second.evaluate, autoencoder=f"{locked}/")
    assert second.trained == [] and len(second.evaluated) == 6
    marker = json.loads((tmp_path / "locked" / "state" / "done" / "baseline-seed0.json").read_text())
    assert marker["autoencoder"] == str(locked)  # normalised: the trailing slash names the same folder
    assert json.loads(paths["json"].read_text())["autoencoder"] == str(locked)
    assert f"Decoded through `{locked}`" in paths["markdown"].read_text()
    with pytest.raises(ConfigError, match=rf"baseline-seed0.json: scored with decoding autoencoder '{locked}', not None"):
        run_ablation(manifest, out_dir=tmp_path / "locked", train=Fakes().train, evaluate=Fakes().evaluate, table_only=True)
    with pytest.raises(ConfigError, match=rf"scored with decoding autoencoder None, not '{locked}'"):
        run_ablation(manifest, out_dir=tmp_path / "as-trained", train=Fakes().train, evaluate=Fakes().evaluate,
                     autoencoder=str(locked), table_only=True)
    # a worker for seed 1 alone still sees seed 0's markers scored the plain way
    with pytest.raises(ConfigError, match="seed0.json: scored with decoding autoencoder None"):
        run_ablation(manifest, out_dir=tmp_path / "as-trained", train=Fakes().train, evaluate=Fakes().evaluate,
                     autoencoder=str(locked), seeds=[1])


def test_rescoring_never_trains_and_needs_an_existing_export(manifest: Path, tmp_path: Path) -> None:
    from jen_composer.core.errors import ConfigError

    locked = tmp_path / "ae-locked"
    locked.mkdir()
    fakes = Fakes()
    with pytest.raises(ConfigError, match=r"baseline \(seed 0\): no finished training in .*run the ablation without it first"):
        run_ablation(manifest, out_dir=tmp_path / "locked", train=fakes.train, evaluate=fakes.evaluate, autoencoder=str(locked))
    assert fakes.trained == [] and fakes.evaluated == []
    with pytest.raises(ConfigError, match=r"--autoencoder .*missing: not an exported autoencoder folder"):
        run_ablation(manifest, out_dir=tmp_path / "x", train=fakes.train, evaluate=fakes.evaluate,
                     autoencoder=str(tmp_path / "missing"))


def test_rescoring_decodes_through_the_one_evaluation_path(manifest: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an injected evaluation, `--autoencoder` reaches `evaluate_checkpoint` for every row-seed."""
    import jen_composer.workflows.evaluate as evaluate_module

    locked = tmp_path / "ae-locked"
    locked.mkdir()
    _run(manifest, tmp_path / "as-trained", Fakes(), [])
    seen = []

    def fake(checkpoint, out, overrides=None, name_prefix="", autoencoder=None):  # noqa: ANN001, ANN202
        seen.append(autoencoder)
        return [SystemResult(name="x", clips=1, clap={"mix": 0.5}, coherence={"beat_sync": 0.5})], {}

    monkeypatch.setattr(evaluate_module, "evaluate_checkpoint", fake)
    run_ablation(manifest, out_dir=tmp_path / "locked", train=Fakes().train, autoencoder=str(locked))
    assert seen == [str(locked)] * 6


def test_evaluate_through_passes_the_autoencoder_to_the_one_evaluation_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import jen_composer.workflows.evaluate as evaluate_module
    from jen_composer.workflows.ablation import evaluate_through

    seen = []

    def fake(checkpoint, out, overrides=None, name_prefix="", autoencoder=None):  # noqa: ANN001, ANN202
        seen.append(autoencoder)
        return [SystemResult(name="x", clips=1, clap={})], {}

    monkeypatch.setattr(evaluate_module, "evaluate_checkpoint", fake)
    cfg = DictConfig({"evaluation": {}})
    evaluate_through("runs/export/ae-locked")(tmp_path / "c.ckpt", tmp_path, cfg, "row")
    evaluate_through(None)(tmp_path / "c.ckpt", tmp_path, cfg, "row")
    assert seen == ["runs/export/ae-locked", None]


def test_ablate_command_line_passes_autoencoder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import jen_composer.workflows.ablation as ablation
    from jen_composer.cli.main import main

    calls = []
    table = tmp_path / "table.md"
    table.write_text("| row |\n")

    def fake(manifest, overrides, out, **kwargs):  # noqa: ANN001, ANN003, ANN202
        calls.append((str(manifest), out, kwargs["autoencoder"]))
        return {"markdown": table}

    monkeypatch.setattr(ablation, "run_ablation", fake)
    assert main(["ablate", "experiments/ablations/table2.yaml", "--autoencoder", "runs/export/gpu-ae-v1-locked",
                 "--out", str(tmp_path / "locked")]) == 0  # the command line of docs/results/table2.md
    assert calls == [("experiments/ablations/table2.yaml", tmp_path / "locked", "runs/export/gpu-ae-v1-locked")]
