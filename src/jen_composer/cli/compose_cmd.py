"""`jen-composer compose`: the co-composition loop in the terminal, or scripted with flags.

Scripted flags run in this order: --generate, --keep/--unkeep, --import, --rounds, --undo, --export.
The interactive prompt starts only with --interactive, or when stdin is a terminal and no
scripted flag was given (so pipes and CI never block on input()).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from jen_composer.core.config.composition import CompositionConfig

_ACTIONS = ("generate", "keep", "unkeep", "imports", "rounds", "undo", "export")


def register(sub: argparse._SubParsersAction) -> None:
    d = CompositionConfig()
    p = sub.add_parser("compose", help="co-compose multi-track music: generate, keep, regenerate, export")
    p.add_argument("--ckpt", help="composer checkpoint (default: the bundled weights)")
    p.add_argument("--prompt", help="text prompt (required for a new session)")
    p.add_argument("--session", metavar="DIR", help=f"session folder to create or reopen (default: {d.sessions_root}/<time>)")
    p.add_argument("--generate", choices=["all", "unkept"], help="first round: all tracks, or the unkept ones")
    p.add_argument("--keep", metavar="T,T", help="tracks to keep, e.g. drums,bass")
    p.add_argument("--unkeep", metavar="T,T", help="tracks to stop keeping")
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="TRACK=FILE",
                   help="use an audio file as a kept track (repeatable)")
    p.add_argument("--rounds", type=int, default=0, metavar="N", help="then regenerate the unkept tracks N times")
    p.add_argument("--undo", metavar="ROUND", help="then go back to ROUND (a number, or 'last' for one step)")
    p.add_argument("--export", metavar="DIR", help="finally export stems + mix + session.json")
    p.add_argument("--seed", type=int, help=f"base seed of a new session (default {d.seed})")
    p.add_argument("--seconds", type=float, help=f"take length of a new session (default {d.seconds})")
    p.add_argument("--steps", type=int, help="sampler steps (default: the composer config's)")
    p.add_argument("--sampler", help="sampler name, e.g. unipc or ddim (default: the composer config's)")
    p.add_argument("--cfg", type=float, dest="text_guidance", help="text guidance scale")
    p.add_argument("--stem-cfg", type=float, dest="stem_guidance", help="guidance towards the kept stems")
    p.add_argument("--interactive", action="store_true", help="read commands from stdin even if it is not a TTY")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="composition.* / composer.sampler.* overrides of the checkpoint's config, e.g. composition.seconds=8")
    p.set_defaults(func=run)


def _open_or_create(args: argparse.Namespace, engine, defaults):  # type: ignore[no-untyped-def]
    from jen_composer.composition.session import Session
    from jen_composer.composition.store import STATE_FILE
    from jen_composer.core.errors import JenComposerError

    cfg = defaults.composition
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    root = Path(args.session or Path(cfg.sessions_root) / stamp)
    if (root / STATE_FILE).exists():
        session = Session.open(root, engine, cfg)
        if args.prompt and args.prompt != session.prompt:
            session.set_prompt(args.prompt)
    else:
        if not args.prompt:
            raise JenComposerError(f"{root}: no session there yet; --prompt is needed to start one")
        session = Session.create(root, engine, args.prompt, seconds=args.seconds, seed=args.seed,
                                 settings=defaults.sampler, cfg=cfg)
    session.set_settings(steps=args.steps, sampler=args.sampler, text_guidance=args.text_guidance,
                         stem_guidance=args.stem_guidance)
    return session


def _tracks(arg: str) -> list[str]:
    return [t.strip() for t in arg.split(",") if t.strip()]


def run(args: argparse.Namespace) -> int:
    from jen_composer.cli.compose_loop import interactive
    from jen_composer.cli.progress import progress_bar
    from jen_composer.composition.defaults import session_defaults
    from jen_composer.composition.text import round_line, summary
    from jen_composer.core.errors import JenComposerError
    from jen_composer.inference.bundle import checkpoint_or_bundle
    from jen_composer.inference.engine import load_engine

    engine = load_engine(checkpoint_or_bundle(args.ckpt))
    defaults = session_defaults(engine.cfg, args.overrides)
    if engine.cfg is not None:  # the engine windows long takes with these composition.longform settings
        engine.cfg.composition = defaults.composition
    session = _open_or_create(args, engine, defaults)
    print(f"session: {session.root}")

    if args.generate:
        with progress_bar(f"generate {args.generate}") as p:
            rnd = session.generate_all(progress=p) if args.generate == "all" else session.regenerate(progress=p)
        print(round_line(rnd))
    if args.unkeep:
        session.unkeep(*_tracks(args.unkeep))
    if args.keep:
        session.keep(*_tracks(args.keep))
    for item in args.imports:
        track, sep, path = item.partition("=")
        if not sep or not path:
            raise JenComposerError(f"--import {item}: expected TRACK=FILE")
        print(round_line(session.import_track(track, path)))
    for _ in range(max(0, args.rounds)):
        with progress_bar("regenerate") as p:
            print(round_line(session.regenerate(progress=p)))
    if args.undo:
        if args.undo != "last" and not args.undo.isdigit():
            raise JenComposerError(f"--undo {args.undo}: expected a round number or 'last'")
        print(round_line(session.undo(None if args.undo == "last" else int(args.undo))))
    if args.export:
        print(f"exported to {session.export(args.export)}")
    scripted = any(getattr(args, a) for a in _ACTIONS)
    if args.interactive or (not scripted and sys.stdin.isatty()):
        interactive(session)
    else:
        print(summary(session))
        if not scripted:
            print("nothing to do: stdin is not a terminal (use --generate/--rounds/... or --interactive)")
    return 0
