"""How a session reads in a terminal: its summary, its history and one line per round."""

from __future__ import annotations

from jen_composer.composition.rounds import Round
from jen_composer.composition.session import Session


def summary(session: Session) -> str:
    """The prompt, the round count and every track's take and kept mark."""
    state = session.snapshot()
    lines = [f"session {session.root}  prompt: {state['prompt']!r}  rounds: {len(state['rounds'])}"]
    for t in state["tracks"]:
        take = state["takes"].get(t)
        mark = "kept" if t in state["kept"] else ("    " if take else "----")
        lines.append(f"  {t:<11} {mark}  take: {'round ' + str(take) if take else 'none'}")
    return "\n".join(lines)


def round_line(r: Round) -> str:
    """What a round did, in one line (what the terminal prints after running it)."""
    if r.op == "undo":
        return f"round {r.index}: restored the state of round {r.target}"
    if r.op == "import":
        notes = "".join(f"\n  note: {n}" for n in (r.source or {}).get("notes", []))
        return f"round {r.index}: imported {(r.source or {}).get('name')} as kept '{', '.join(r.generated)}'{notes}"
    if r.op == "reimagine":
        return f"round {r.index}: re-imagined {', '.join(r.generated)}"
    if r.op == "region":
        track, start, end = r.region or ["", 0.0, 0.0]
        return f"round {r.index}: regenerated {track} from {float(start):g} s to {float(end):g} s"
    verb = "generated" if not r.kept else "regenerated"
    return f"round {r.index}: {verb} {', '.join(r.generated)}"


def history(session: Session) -> str:
    """One row per round: op, tracks, seed, kept set and prompt."""
    rows = []
    for r in session.rounds:
        if r.op == "undo":
            what = f"-> round {r.target}"
        elif r.op == "import":
            what = f"{','.join(r.generated)} <- {(r.source or {}).get('name')}"
        else:
            what = ",".join(r.generated)
        seed = f" seed {r.seed}" if r.seed is not None else ""
        rows.append(f"  {r.index:>3} {r.op:<9} {what}{seed}  kept: {','.join(r.kept) or '-'}  prompt: {r.prompt!r}")
    return "\n".join(rows) or "  (no rounds yet)"
