"""RPR: the blind page hides systems, answers map back through the key, CIs bracket the ratio."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jen_composer.core.errors import ConfigError, DataError
from jen_composer.metrics.rpr import build_listening_test, compute_rpr, load_answers, wilson_interval

TRACKS = ["bass", "drums", "instrument", "melody"]


def _system(root: Path, name: str, clips: int, stems: bool = False) -> Path:
    folder = root / name
    for i in range(clips):
        wave = (0.1 * np.random.default_rng(i).standard_normal(1600)).astype(np.float32)
        if stems:
            for t in TRACKS:
                (folder / f"c{i}").mkdir(parents=True, exist_ok=True)
                sf.write(folder / f"c{i}" / f"{t}.wav", wave, 16000)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            sf.write(folder / f"c{i}.wav", wave, 16000)
    return folder


def test_listening_test_is_blind_and_keyed(tmp_path: Path) -> None:
    systems = {"composer": _system(tmp_path, "composer", 3, stems=True),
               "musicgen": _system(tmp_path, "musicgen", 3), "jen1": _system(tmp_path, "jen1", 4)}
    key = build_listening_test(systems, tmp_path / "test", TRACKS, seed=1)
    page = (tmp_path / "test" / "page" / "index.html").read_text()
    assert len(key["trials"]) == 2 * 3 and key["reference"] == "composer"
    for name in systems:
        assert name not in page  # nothing on the page names a system
    assert not (tmp_path / "test" / "page" / "key.json").exists()
    audio = list((tmp_path / "test" / "page" / "audio").iterdir())
    assert len(audio) == 3 * 3
    trials = json.loads(page.split('type="application/json">')[1].split("</script>")[0])
    assert {t["id"] for t in trials} == set(key["trials"])
    sides = [key["trials"][t]["A"] == "composer" for t in key["trials"]]
    assert 0 < sum(sides) < len(sides)  # sides are randomised
    for t in trials:
        assert (tmp_path / "test" / "page" / t["a"]).is_file()
    with pytest.raises(ConfigError, match="reference"):
        build_listening_test(systems, tmp_path / "x", TRACKS, reference="nope")


def _key(wins: dict[str, tuple[int, int]]) -> tuple[dict, list[dict[str, str]]]:
    trials, answers = {}, []
    for system, (won, n) in wins.items():
        for i in range(n):
            tid = f"{system}{i}"
            a, b = (system, "ref") if i % 2 else ("ref", system)
            trials[tid] = {"A": a, "B": b, "clip": str(i)}
            winner = system if i < won else "ref"
            answers.append({"rater": "r", "trial": tid, "choice": "A" if a == winner else "B"})
    return {"reference": "ref", "systems": ["ref", *wins], "trials": trials}, answers


def test_rpr_counts_and_intervals() -> None:
    key, answers = _key({"musicgen": (9, 25), "jen1": (20, 25)})
    res = {r.system: r for r in compute_rpr(answers, key)}
    assert res["musicgen"].rpr == pytest.approx(9 / 25) and res["jen1"].wins == 20
    for r in res.values():
        assert r.low < r.rpr < r.high
    boot = {r.system: r for r in compute_rpr(answers, key, method="bootstrap", bootstrap_samples=500)}
    assert boot["jen1"].low < 0.8 < boot["jen1"].high
    low, high = wilson_interval(0, 10, 0.95)
    assert low == 0.0 and 0.2 < high < 0.35  # Wilson stays sensible at 0 wins
    with pytest.raises(DataError, match="not in the key"):
        compute_rpr([{"rater": "r", "trial": "zzz", "choice": "A"}], key)


def test_answers_from_json_and_csv(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"rater": "ann", "answers": [{"trial": "t1", "choice": "B"}]}))
    (tmp_path / "b.csv").write_text("test,rater,trial,choice\nx,bob,t2,A\n")
    rows = load_answers([tmp_path / "a.json", tmp_path / "b.csv"])
    assert rows == [{"rater": "ann", "trial": "t1", "choice": "B"}, {"rater": "bob", "trial": "t2", "choice": "A"}]
    (tmp_path / "c.csv").write_text("trial,choice\nt3,maybe\n")
    with pytest.raises(DataError, match="A or B"):
        load_answers([tmp_path / "c.csv"])
