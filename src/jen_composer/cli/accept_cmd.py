"""`jen-composer accept --ckpt A --ckpt B --ckpt C`: does the composer use its drums + bass conditions?"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("accept", help="conditional vs joint vs swapped-condition generation on held-out songs, "
                                      "paired 95%% intervals over training seeds and clips")
    p.add_argument("--ckpt", action="append", required=True,
                   help="composer checkpoint, once per training seed (repeat the flag)")
    p.add_argument("--clips", type=int, default=60, help="songs (the first N of the split)")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--seconds", type=float, default=4.096, help="length of every generated clip")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (and the bootstrap's)")
    p.add_argument("--out", default="runs/acceptance", help="output folder")
    p.add_argument("--autoencoder", default=None, metavar="DIR",
                   help="decode through this exported autoencoder instead of the one each checkpoint names (a "
                        "re-export with other decoding settings: it must have the same checksum)")
    p.add_argument("--ladder", default=None, metavar="S1,S2,...",
                   help="instead: the re-imagine ladder of the first --ckpt (pitched tracks re-imagined at these "
                        "strengths in (0, 1] with every other stem kept), e.g. 0.2,0.5,0.8,1")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jen_composer.workflows.acceptance import run_acceptance

    if args.ladder is not None:
        return _ladder(args)
    result = run_acceptance([Path(c) for c in args.ckpt], Path(args.out), args.clips, args.seconds, args.seed,
                            split=args.split, autoencoder=args.autoencoder)
    print((Path(args.out) / "acceptance.md").read_text())
    print(f"json: {Path(args.out) / 'acceptance.json'}")
    return 0 if result["passed"] else 1


def _ladder(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jen_composer.core.errors import ConfigError
    from jen_composer.workflows.reimagine_ladder import run_ladder

    try:
        strengths = [float(x) for x in args.ladder.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--ladder: '{args.ladder}' is not a comma-separated list of numbers") from None
    run_ladder(Path(args.ckpt[0]), Path(args.out), args.clips, args.seconds, args.seed, strengths, args.split,
               autoencoder=args.autoencoder)
    print((Path(args.out) / "ladder.md").read_text())
    print(f"json: {Path(args.out) / 'ladder.json'}")
    return 0
