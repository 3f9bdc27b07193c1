"""`jen-composer calibrate`: fit a few-call time grid to a checkpoint and a task; prints the override."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="fit the sampler's grid points to a checkpoint and task (few calls, small error)")
    p.add_argument("--ckpt", help="composer checkpoint (default: the bundled weights)")
    p.add_argument("--data", required=True, help="rendered dataset whose held-out songs give prompts and kept stems")
    p.add_argument("--generate", required=True, metavar="T,T", help="tracks to generate, e.g. instrument,melody")
    p.add_argument("--keep", default="", metavar="T,T", help="tracks kept from each song, e.g. drums,bass")
    p.add_argument("--steps", type=int, required=True, help="denoiser calls the grid is for")
    p.add_argument("--clips", type=int, default=8, help="held-out songs sampled per trial (default 8)")
    p.add_argument("--seconds", type=float, default=4.096, help="length of each clip (default 4.096)")
    p.add_argument("--reference-steps", type=int, default=100, help="calls of the reference run (default 100)")
    p.add_argument("--max-evaluations", type=int, default=200, help="sampler runs the search may take (default 200)")
    p.add_argument("--check-clips", type=int, default=0, help="then measure it on this many other held-out songs "
                   "against the even grid and the checkpoint's own sampler (default 0: no check)")
    p.add_argument("--out", help="also write the result as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jen_composer.core.errors import ConfigError
    from jen_composer.inference.bundle import checkpoint_or_bundle
    from jen_composer.workflows.calibrate import calibrate_checkpoint

    for name in ("clips", "reference_steps", "max_evaluations"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')}: must be at least 1")
    if args.check_clips < 0:
        raise ConfigError("--check-clips: must be 0 or more")
    if args.steps < 2 or args.steps >= args.reference_steps:
        raise ConfigError(f"--steps: {args.steps} must be at least 2 and below --reference-steps ({args.reference_steps})")
    if args.seconds <= 0:
        raise ConfigError("--seconds: must be positive")
    split = lambda text: [t for t in text.split(",") if t]  # noqa: E731
    result = calibrate_checkpoint(checkpoint_or_bundle(args.ckpt), Path(args.data), split(args.generate), split(args.keep),
                                  args.steps, args.clips, args.seconds, args.reference_steps, args.max_evaluations,
                                  out=Path(args.out) if args.out else None, check_clips=args.check_clips)
    print(f"calibrated {result['sampler']} at {result['steps']} calls on {len(result['songs'])} held-out songs "
          f"({result['evaluations']} trials, {result['wall_seconds']} s): distance to the {result['reference_steps']}-call "
          f"reference {result['error']:.2e}, even log-SNR grid {result['even_grid_error']:.2e}")
    if "check" in result:
        check = result["check"]
        print(f"on {len(check['songs'])} other held-out songs, distance to the reference: "
              + ", ".join(f"{k} {v:.2e}" for k, v in check.items() if k != "songs"))
    print(f"use it with:  {result['override']}")
    return 0
