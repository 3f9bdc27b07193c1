"""The interactive co-composition loop of `jen-composer compose` (Algorithm 1 at the terminal).

``run_command`` interprets one line and is shared by the interactive prompt and tests; it returns
False when the user quits. Errors in a command are printed and the loop goes on.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable

from jen_composer.cli.progress import progress_bar
from jen_composer.composition.session import Session
from jen_composer.composition.text import history, round_line, summary
from jen_composer.core.errors import JenComposerError

HELP = """commands:
  all [SEED]                 generate every track from the prompt (clears the kept set)
  regen [SEED] [T,T]         regenerate the unkept tracks (or just T,T) conditioned on the kept ones
  keep T[,T]  / unkeep T[,T] choose the tracks to keep
  import TRACK FILE          use your own audio file as a kept track
  import mix FILE            a finished mix every later round is conditioned on (all = separate it)
  reimagine TRACK STRENGTH   a variation of a kept track, strength in (0, 1]
  region TRACK START END     regenerate seconds START..END of one track
  prompt TEXT                change the prompt for the next rounds
  set NAME=VALUE ...         sampler settings, e.g. steps=N cfg=X stem=X sampler=unipc grid=logsnr
  undo [ROUND]               go back to an earlier round (0 = empty; default: one step)
  history / status           list the rounds / the current takes
  mix [gain T DB | mute T | unmute T | solo T | unsolo T | FILE.wav]
  export DIR                 stems + mix + session.json
  help, quit"""


def _tracks(arg: str) -> list[str]:
    return [t.strip() for t in arg.split(",") if t.strip()]


def _mix(session: Session, args: list[str], say: Callable[[str], None]) -> None:
    from jen_composer.composition.audio import write_take

    if not args:
        m = session.mix_state
        say(f"gain dB {m.gain_db or '{}'}  mute {m.mute}  solo {m.solo}")
    elif args[0] == "gain" and len(args) == 3:
        session.set_gain(args[1], float(args[2]))
    elif args[0] in ("mute", "unmute", "solo", "unsolo") and len(args) == 2:
        setter = session.set_mute if args[0].endswith("mute") else session.set_solo
        setter(args[1], not args[0].startswith("un"))
    elif len(args) == 1 and args[0].endswith(".wav"):
        write_take(args[0], session.mix(), session.sample_rate)
        say(f"mix written to {args[0]}")
    else:
        raise JenComposerError("usage: mix [gain T DB | mute T | unmute T | solo T | unsolo T | FILE.wav]")


def run_command(session: Session, line: str, say: Callable[[str], None] = print) -> bool:
    """Execute one command line; False means quit."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        say(f"error: {exc}")
        return True
    if not words:
        return True
    cmd, args = words[0].lower(), words[1:]
    seed = lambda i: int(args[i]) if len(args) > i else None  # noqa: E731
    try:
        if cmd in ("quit", "exit", "q"):
            return False
        if cmd in ("help", "?"):
            say(HELP)
        elif cmd == "all":
            with progress_bar("generate all") as p:
                session.generate_all(seed=seed(0), progress=p)
        elif cmd in ("regen", "regenerate"):
            with progress_bar("regenerate") as p:
                only = _tracks(args[1]) if len(args) > 1 else None
                say(round_line(session.regenerate(seed=seed(0), progress=p, only=only)))
        elif cmd in ("keep", "unkeep") and len(args) == 1:
            (session.keep if cmd == "keep" else session.unkeep)(*_tracks(args[0]))
        elif cmd == "import" and len(args) == 2:
            say(round_line(session.import_track(args[0], args[1])))
        elif cmd == "reimagine" and len(args) in (2, 3):
            with progress_bar(f"re-imagine {args[0]}") as p:
                session.reimagine(args[0], float(args[1]), seed=seed(2), progress=p)
        elif cmd == "region" and len(args) in (3, 4):
            with progress_bar(f"region {args[0]}") as p:
                session.regenerate_region(args[0], float(args[1]), float(args[2]), seed=seed(3), progress=p)
        elif cmd == "prompt" and args:
            session.set_prompt(" ".join(args))
        elif cmd == "set" and args:
            pairs = [item.partition("=") for item in args]
            if any(not sep for _, sep, _ in pairs):
                raise JenComposerError("usage: set NAME=VALUE ... (e.g. set steps=10 cfg=2.5)")
            say(str(session.set_settings(**{key: value for key, _, value in pairs})))
        elif cmd == "undo" and len(args) <= 1:
            say(round_line(session.undo(int(args[0]) if args else None)))
        elif cmd == "history":
            say(history(session))
        elif cmd in ("status", "ls"):
            say(summary(session))
        elif cmd == "mix":
            _mix(session, args, say)
        elif cmd == "export" and len(args) == 1:
            say(f"exported to {session.export(args[0])}")
        else:
            say(f"unknown or incomplete command: {line.strip()!r} (type 'help')")
            return True
    except (JenComposerError, ValueError, OSError) as exc:
        say(f"error: {exc}")
        return True
    if cmd not in ("help", "?", "history", "status", "ls", "mix", "set"):
        say(summary(session))
    return True


def interactive(session: Session, read: Callable[[str], str] = input, say: Callable[[str], None] = print) -> None:
    """Prompt for commands until quit or end of input."""
    say(summary(session))
    say("type 'help' for commands")
    while True:
        try:
            line = read("compose> ")
        except EOFError:
            break
        if not run_command(session, line, say):
            break


def run_script(session: Session, lines: Iterable[str], say: Callable[[str], None] = print) -> None:
    for line in lines:
        if not run_command(session, line, say):
            break
