"""`jen-composer evaluate-separation`: SI-SDR and magnitude SDR per stem of a checkpoint's separation
mode between the floor (the mix as every stem) and the ceilings (ideal ratio mask; the checkpoint's
own codec round trip), on a benchmark's held-out songs."""

from __future__ import annotations

import argparse
import shlex


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate-separation", help="SI-SDR and magnitude SDR per stem of separating held-out mixes, against floor and ceiling anchors")
    p.add_argument("--data", required=True, help="song folder with splits.json (e.g. data/bench)")
    p.add_argument("--ckpt", action="append", default=[],
                   help="composer checkpoint trained with composer.mix_track; repeat for several (e.g. one per "
                        "training seed); omit for the anchors only")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--seconds", type=float, default=4.0, help="score the first SECONDS of each song (default 4)")
    p.add_argument("--songs", type=int, default=0, help="at most this many songs (default: the whole split)")
    p.add_argument("--sample-rate", type=int, help="default: the checkpoint's, else the data's")
    p.add_argument("--tracks", default="bass,drums,instrument,melody", help="comma-separated stems")
    p.add_argument("--steps", type=int, help="sampler steps of the checkpoint (default: its config's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="folder for separation.md/json (default: print only)")
    p.set_defaults(func=run)


def _command(args: argparse.Namespace) -> str:
    """The command line that reruns this evaluation (every option spelled out)."""
    parts = ["jen-composer", "evaluate-separation", "--data", str(args.data), "--split", args.split,
             "--seconds", f"{args.seconds:g}", "--tracks", args.tracks, "--seed", str(args.seed)]
    for ckpt in args.ckpt:
        parts += ["--ckpt", str(ckpt)]
    for flag, value in (("--songs", args.songs), ("--sample-rate", args.sample_rate),
                        ("--steps", args.steps), ("--out", args.out)):
        if value:
            parts += [flag, str(value)]
    return " ".join(shlex.quote(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jen_composer.core.errors import ConfigError
    from jen_composer.data.index import first_sample_rate
    from jen_composer.metrics.separation_scores import N_FFT
    from jen_composer.workflows.separation_eval import (
        anchor_systems,
        checkpoint_systems,
        evaluate_separation,
        separation_markdown,
        write_separation,
    )

    root = Path(args.data)
    tracks = [t.strip() for t in args.tracks.split(",") if t.strip()]
    if args.seconds <= 0:
        raise ConfigError(f"--seconds {args.seconds}: must be > 0")
    systems = anchor_systems()
    sample_rate = args.sample_rate
    if args.ckpt:
        if sample_rate is None:
            from jen_composer.core.checkpoints import CHECKPOINT_KEY, read_composer_checkpoint

            rates = {int(read_composer_checkpoint(c)[CHECKPOINT_KEY]["config"]["data"]["sample_rate"]) for c in args.ckpt}
            if len(rates) > 1:
                raise ConfigError(f"--ckpt: the checkpoints have different sample rates {sorted(rates)}; give --sample-rate")
            sample_rate = rates.pop()
        systems.update(checkpoint_systems(args.ckpt, sample_rate, tracks, args.steps, args.seed))
    sample_rate = sample_rate or first_sample_rate(root)
    if args.seconds * sample_rate < N_FFT:
        raise ConfigError(f"--seconds {args.seconds:g}: too short to score; at least {N_FFT / sample_rate:.3f} s "
                          f"({N_FFT} samples at {sample_rate} Hz)")
    result = evaluate_separation(root, tracks, sample_rate, systems, split=args.split, seconds=args.seconds,
                                 limit=args.songs)
    print(separation_markdown(result, tracks))
    print(f"wall time {result['wall_s']:.1f} s")
    if args.out:
        command = _command(args)
        for key, path in write_separation(result, tracks, Path(args.out), command).items():
            print(f"{key}: {path}")
    return 0
