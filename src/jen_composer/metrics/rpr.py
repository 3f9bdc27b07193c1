"""Relative preference ratio (RPR): a blind pairwise A/B listening test and its analysis.

``build_listening_test`` writes ``OUT/page/index.html`` + ``OUT/page/audio/*`` (serve or send only
``page/``: file names are random tokens) and ``OUT/key.json`` (which side is which system; keep
it away from raters). ``compute_rpr`` reads the answers the page downloads (JSON or CSV, many
raters) and gives, per system, the share of comparisons in which it was preferred over the
reference system, with a Wilson or bootstrap confidence interval (as in the paper's Table 1).
"""

from __future__ import annotations

import csv
import html
import io
import json
import secrets
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from jen_composer.core.errors import ConfigError, DataError
from jen_composer.core.io import atomic_write_json, atomic_write_text
from jen_composer.metrics.audio_folder import Clip, PromptInfo, discover_clips, load_mix

KEY_FILE = "key.json"
PAGE_DIR = "page"


@dataclass
class RprResult:
    system: str
    reference: str
    wins: int
    comparisons: int
    rpr: float  # wins / comparisons
    low: float
    high: float
    method: str


def _mix_file(clip: Clip, tracks: Sequence[str], sample_rate: int, dest: Path) -> None:
    if clip.mix is not None:
        shutil.copyfile(clip.mix, dest.with_suffix(clip.mix.suffix))
        return
    import soundfile as sf

    sf.write(str(dest.with_suffix(".wav")), load_mix(clip, tracks, sample_rate), sample_rate, subtype="FLOAT")  # no clipping


def build_listening_test(systems: Mapping[str, Path], out: Path, tracks: Sequence[str],
                         prompts: Mapping[str, PromptInfo] | None = None, reference: str = "",
                         seed: int = 0, pairs_per_clip: int = 1, sample_rate: int = 16000) -> dict[str, Any]:
    """Pair every non-reference system with the reference on each shared clip; randomise all."""
    if len(systems) < 2:
        raise ConfigError("--systems: a listening test needs at least two systems (NAME=DIR)")
    reference = reference or next(iter(systems))
    if reference not in systems:
        raise ConfigError(f"--reference '{reference}': not one of the systems {sorted(systems)}")
    clips = {name: {c.id: c for c in discover_clips(Path(d), tracks)} for name, d in systems.items()}
    shared = sorted(set.intersection(*(set(c) for c in clips.values())))
    if not shared:
        raise DataError(f"no clip id is present in every system folder ({', '.join(map(str, systems.values()))})")
    rng = np.random.default_rng(seed)
    audio_dir = out / PAGE_DIR / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    files: dict[tuple[str, str], str] = {}
    for name in systems:
        for clip_id in shared:
            token = secrets.token_hex(6)
            dest = audio_dir / token
            _mix_file(clips[name][clip_id], tracks, sample_rate, dest)
            files[(name, clip_id)] = next(audio_dir.glob(f"{token}.*")).name
    trials, key = [], {}
    for name in systems:
        if name == reference:
            continue
        for clip_id in shared:
            for _ in range(pairs_per_clip):
                trial = f"t{secrets.token_hex(4)}"
                a, b = (name, reference) if rng.random() < 0.5 else (reference, name)
                text = prompts[clip_id].text if prompts and clip_id in prompts else ""
                trials.append({"id": trial, "a": f"audio/{files[(a, clip_id)]}",
                               "b": f"audio/{files[(b, clip_id)]}", "prompt": text})
                key[trial] = {"A": a, "B": b, "clip": clip_id}
    order = rng.permutation(len(trials))
    trials = [trials[i] for i in order]
    test_id = secrets.token_hex(4)
    page = resources.files("jen_composer.metrics").joinpath("listening.html").read_text(encoding="utf-8")
    page = page.replace("__TRIALS__", json.dumps(trials).replace("</", "<\\/"))
    page = page.replace("__TEST_ID__", html.escape(test_id))
    atomic_write_text(out / PAGE_DIR / "index.html", page)
    key_doc = {"test": test_id, "reference": reference, "systems": list(systems), "trials": key}
    atomic_write_json(out / KEY_FILE, key_doc)
    return key_doc


def load_answers(paths: Sequence[Path]) -> list[dict[str, str]]:
    """Rows ``{"rater", "trial", "choice"}`` from the page's JSON or CSV downloads."""
    rows: list[dict[str, str]] = []
    for path in paths:
        if not path.is_file():
            raise DataError(f"{path}: answers file not found")
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".csv":
            reader = csv.DictReader(io.StringIO(text))
            if not reader.fieldnames or not {"trial", "choice"} <= set(reader.fieldnames):
                raise DataError(f"{path}: CSV needs the columns trial and choice")
            rows += [{"rater": r.get("rater") or path.stem, "trial": r["trial"], "choice": r["choice"]}
                     for r in reader]
            continue
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: invalid JSON: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("answers"), list):
            raise DataError(f"{path}: expected {{'rater': ..., 'answers': [{{'trial', 'choice'}}]}}")
        rater = str(doc.get("rater") or path.stem)
        rows += [{"rater": rater, "trial": str(a["trial"]), "choice": str(a["choice"])} for a in doc["answers"]]
    for r in rows:
        if r["choice"] not in ("A", "B"):
            raise DataError(f"answer for trial '{r['trial']}': choice must be A or B, got '{r['choice']}'")
    return rows


def wilson_interval(wins: int, n: int, level: float) -> tuple[float, float]:
    from scipy.stats import binomtest

    ci = binomtest(wins, n).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap_interval(outcomes: np.ndarray, level: float, samples: int, seed: int) -> tuple[float, float]:
    from scipy.stats import bootstrap

    if outcomes.min() == outcomes.max():  # degenerate: every answer the same
        return float(outcomes[0]), float(outcomes[0])
    res = bootstrap((outcomes,), np.mean, confidence_level=level, n_resamples=samples,
                    method="percentile", rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def compute_rpr(answers: Sequence[Mapping[str, str]], key: Mapping[str, Any], method: str = "wilson",
                level: float = 0.95, bootstrap_samples: int = 2000, seed: int = 0) -> list[RprResult]:
    """RPR per non-reference system: the share of its comparisons it won against the reference."""
    if method not in ("wilson", "bootstrap"):
        raise ConfigError(f"evaluation.listening.ci_method '{method}': expected wilson or bootstrap")
    trials, reference = key["trials"], key["reference"]
    outcomes: dict[str, list[float]] = {s: [] for s in key["systems"] if s != reference}
    for row in answers:
        if row["trial"] not in trials:
            raise DataError(f"answer for trial '{row['trial']}' is not in the key (answers from another test?)")
        pair = trials[row["trial"]]
        winner = pair[row["choice"]]
        other = pair["B" if row["choice"] == "A" else "A"]
        system = winner if winner != reference else other
        outcomes[system].append(1.0 if winner == system else 0.0)
    results = []
    for system, values in outcomes.items():
        n, wins = len(values), int(sum(values))
        if n == 0:
            results.append(RprResult(system, reference, 0, 0, float("nan"), float("nan"), float("nan"), method))
            continue
        if method == "wilson":
            low, high = wilson_interval(wins, n, level)
        else:
            low, high = bootstrap_interval(np.asarray(values), level, bootstrap_samples, seed)
        results.append(RprResult(system, reference, wins, n, wins / n, low, high, method))
    return results


def rpr_rows(results: Sequence[RprResult]) -> list[dict[str, Any]]:
    return [asdict(r) for r in results]
