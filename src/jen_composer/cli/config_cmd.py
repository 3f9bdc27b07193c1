"""`jen-composer config`: print the resolved config and run id of an experiment (or its task shares)."""

from __future__ import annotations

import argparse

from jen_composer.cli.common import add_config_arguments


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="print an experiment's resolved config and its run id")
    add_config_arguments(p)
    p.add_argument("--task-shares", action="store_true",
                   help="print instead the share of each training task at the start, middle and end of training")
    p.set_defaults(func=run)


def task_shares_markdown(cfg) -> str:
    """A markdown table: one row per task type (generated / kept / absent tracks), one column per step."""
    from jen_composer.training.curriculum import share_table

    steps, rows = share_table(cfg)
    lines = ["| generated | kept | absent | " + " | ".join(f"step {s}" for s in steps) + " |",
             "|---:|---:|---:|" + "---:|" * len(steps)]
    for tt, shares in rows.items():
        lines.append(f"| {tt.generated} | {tt.kept} | {tt.absent} | " + " | ".join(f"{100 * p:.1f}%" for p in shares) + " |")
    if bool(cfg.composer.mix_track):  # constant over training; included in the rows above
        c = cfg.curriculum
        lines.append(f"\nWith the mix given (composer.mix_track): separation {100 * c.separation:.1f}%, extraction "
                     f"{100 * c.extraction:.1f}%, arrangement {100 * c.arrangement:.1f}% at every step; the mix is absent otherwise.")
    if bool(cfg.composer.frame_timesteps):  # a frame task keeps the sample's task type
        lines.append(f"\nFrame masks (composer.frame_timesteps): {100 * float(cfg.curriculum.frame_mask_share):.1f}% of the "
                     "samples regenerate a prefix, suffix or inner span of their generated tracks (the rest known, t=0).")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from jen_composer.core.config import compose, run_dir, to_yaml

    cfg = compose(args.config, args.overrides)
    if args.task_shares:
        print(task_shares_markdown(cfg))
        return 0
    print(to_yaml(cfg), end="")
    print(f"# run folder: {run_dir(cfg)}")
    return 0
