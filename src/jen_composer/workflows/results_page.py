"""A results page that opens from disk (no server): players, labelled spectrograms, scores.

`write_results_page` writes `index.html` next to the sample folders it links with relative paths,
so the whole folder can be copied or zipped and still plays.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jen_composer.core.io import atomic_write_text

STYLE = """
body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em} h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
.players{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em;align-items:center}
.kept{color:#1b7f3b;font-weight:600} .generated{color:#b5480b;font-weight:600}
img{max-width:100%;border:1px solid #ddd;margin-top:.6em}
table{border-collapse:collapse;margin:.6em 0} td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left} .note{color:#555}
"""


@dataclass
class PageSection:
    """One sample: its audio files (track or "mix" -> wav), its spectrogram and each track's role."""

    key: str  # short name, e.g. "joint"
    title: str
    note: str
    audio: dict[str, Path]
    spectrogram: Path
    roles: dict[str, str] = field(default_factory=dict)  # track -> "kept" | "generated"


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def score_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """An HTML table of rows with the same keys (the first row's keys are the header)."""
    if not rows:
        return "<p class=note>no scores</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{_cell(row.get(k))}</td>" for k in rows[0]) + "</tr>" for row in rows)
    return f"<table data-testid=scores><tr>{head}</tr>{body}</table>"


def _section(s: PageSection, page_dir: Path) -> str:
    rel = lambda p: html.escape(Path(os.path.relpath(p, page_dir)).as_posix(), quote=True)  # noqa: E731
    players = []
    for name, path in s.audio.items():
        role = s.roles.get(name, "")
        label = f"{html.escape(name)}" + (f" <span class={role}>({role})</span>" if role else "")
        players.append(f"<div>{label}</div><audio controls preload=metadata src=\"{rel(path)}\"></audio>")
    return (f"<section><h2>{html.escape(s.title)}</h2><p class=note>{html.escape(s.note)}</p>"
            f"<div class=players>{''.join(players)}</div>"
            f"<img alt=\"spectrograms: {html.escape(s.title)}\" src=\"{rel(s.spectrogram)}\"></section>")


def write_results_page(path: Path, title: str, sections: Sequence[PageSection], scores_html: str = "",
                       facts: Mapping[str, str] | None = None) -> Path:
    """Write ``path`` (atomically); every link is relative to its folder."""
    page_dir = path.parent
    fact_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in (facts or {}).items())
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<table data-testid=facts>{fact_rows}</table>" if fact_rows else "",
        *(_section(s, page_dir) for s in sections),
        f"<section><h2>Scores</h2>{scores_html}</section>" if scores_html else "",
        "</body></html>\n",
    ]
    atomic_write_text(path, "".join(parts))
    return path
