"""`evaluate-audio`, `listening-test` and `rpr` end to end on synthesised songs (offline, random CLAP)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from jen_composer.cli.main import main
from jen_composer.core.config.evaluation import EvaluationConfig
from jen_composer.metrics.clap import ClapScorer
from jen_composer.metrics.evaluate_audio import evaluate_audio_folder
from jen_composer.metrics.fad import mel_embedder
from jen_composer.metrics.synthetic import synth_song

TRACKS = ["bass", "drums", "instrument", "melody"]
SR = 16000
TINY_CLAP = ["evaluation.clap.backend=random", "evaluation.clap.amodel=HTSAT-tiny"]
SONGS = [(120, [0, 9, 5, 7]), (96, [2, 11, 7, 4]), (108, [5, 2, 10, 0])]


class CheapScorer:
    """A weight-free ClapScorer (log-mel statistics) for tests about everything but CLAP."""

    def __init__(self) -> None:
        self.mel = mel_embedder(n_mels=8)

    def embed_audio(self, wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
        return torch.nn.functional.normalize(self.mel(torch.as_tensor(wave), sample_rate), dim=-1)

    def embed_text(self, texts: list[str]) -> torch.Tensor:
        rows = [torch.randn(16, generator=torch.Generator().manual_seed(len(t))) for t in texts]
        return torch.nn.functional.normalize(torch.stack(rows), dim=-1)


def _write_songs(root: Path, swap_bass: bool = False, count: int = 3) -> dict[str, dict]:
    songs = [synth_song(t, r, 4.0, sr=SR, seed=i) for i, (t, r) in enumerate(SONGS[:count])]
    prompts = {}
    for i, song in enumerate(songs):
        folder = root / f"song{i}"
        folder.mkdir(parents=True)
        for track in TRACKS:
            src = songs[(i + 1) % len(songs)] if swap_bass and track == "bass" else song
            sf.write(folder / f"{track}.wav", src.stems[track], SR)
        prompts[f"song{i}"] = {"prompt": f"pop song at {song.tempo:.0f} bpm", "chords": song.chords}
    return prompts


@pytest.fixture(scope="module")
def song_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("eval")
    prompts = _write_songs(root / "matched")
    _write_songs(root / "swapped", swap_bass=True)
    _write_songs(root / "two", count=2)  # the random-CLAP run: HTSAT costs ~0.3 s per embedding
    (root / "prompts.json").write_text(json.dumps(prompts))
    return {"root": root, "matched": root / "matched", "swapped": root / "swapped", "two": root / "two",
            "prompts": root / "prompts.json"}


@pytest.mark.slow  # random HTSAT CLAP: ~10 s idle, ~50 s on a loaded 2-core machine
def test_evaluate_audio_with_random_clap(song_dirs, capsys, random_clap) -> None:
    _check_evaluate_audio(song_dirs, capsys, "random")


def test_evaluate_audio_writes_table_json_and_plots(song_dirs, capsys, monkeypatch) -> None:
    import jen_composer.metrics.evaluate_audio as ev

    monkeypatch.setattr(ev, "build_clap_scorer", lambda cfg: CheapScorer())
    _check_evaluate_audio(song_dirs, capsys, "cheap")


def _check_evaluate_audio(song_dirs, capsys, tag: str) -> None:
    out = song_dirs["root"] / f"report_{tag}"
    cache = song_dirs["root"] / f"fadcache_{tag}"
    args = ["evaluate-audio", "--dir", str(song_dirs["two"]), "--prompts", str(song_dirs["prompts"]),
            "--reference", str(song_dirs["two"]), "--out", str(out), "--name", "ours",
            *TINY_CLAP, "evaluation.fad.embedding=mel", f"evaluation.fad.reference_cache={cache}"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| ours |" in printed and "CLAP Mixed" in printed
    result = json.loads((out / "results.json").read_text())["results"][0]
    assert result["clips"] == 2 and set(result["clap"]) == {*TRACKS, "mix"}
    assert all(-1.0 <= v <= 1.0 for v in result["clap"].values())
    assert result["fad"]["mix"]["fad"] == pytest.approx(0.0, abs=1e-3)  # generated set == reference
    assert result["fad"]["bass"]["clips"] == 2
    assert result["coherence"]["tempo_accuracy"] >= 1 / 2
    assert result["coherence"]["bass_chord_agreement"] > 0.8
    assert len(list(out.glob("clap_*.png"))) == 5 and len(list(cache.glob("*.npz"))) == 5


def test_swapped_bass_scores_worse(song_dirs) -> None:
    cfg = EvaluationConfig()
    scorer: ClapScorer = CheapScorer()
    kw = dict(cfg=cfg, tracks=TRACKS, scorer=scorer, progress=False)
    good = evaluate_audio_folder(song_dirs["matched"], song_dirs["prompts"], **kw)
    bad = evaluate_audio_folder(song_dirs["swapped"], song_dirs["prompts"], **kw)
    for key in ("bass_chord_agreement", "chroma_agreement", "beat_sync"):
        assert good.coherence[key] > bad.coherence[key] + 0.1, key


def test_mix_only_folder_without_demucs_is_one_clear_error(tmp_path: Path, monkeypatch, capsys, random_clap) -> None:
    monkeypatch.setitem(sys.modules, "demucs", None)  # as if Demucs were not installed
    monkeypatch.setitem(sys.modules, "demucs.pretrained", None)
    (tmp_path / "mixes").mkdir()
    sf.write(tmp_path / "mixes" / "a.wav", np.zeros(1600, dtype=np.float32), SR)
    (tmp_path / "p.json").write_text(json.dumps({"a": "rock"}))
    args = ["evaluate-audio", "--dir", str(tmp_path / "mixes"), "--prompts", str(tmp_path / "p.json"), *TINY_CLAP]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Demucs" in err[0]
    (tmp_path / "p.json").write_text(json.dumps({"b": "rock"}))
    assert main(args) == 2 and "no prompt for clip(s) ['a']" in capsys.readouterr().err


def test_listening_test_then_rpr(song_dirs, tmp_path: Path, capsys) -> None:
    out = tmp_path / "lt"
    args = ["listening-test", "--systems", f"ref={song_dirs['matched']}", f"other={song_dirs['swapped']}",
            "--out", str(out), "--prompts", str(song_dirs["prompts"]), "--pairs-per-clip", "4"]
    assert main(args) == 0
    key = json.loads((out / "key.json").read_text())
    assert len(key["trials"]) == 12
    # a rater who prefers "other" in exactly the first 9 of 12 trials
    answers = [{"trial": t, "choice": "A" if (pair["A"] == "other") == (i < 9) else "B"}
               for i, (t, pair) in enumerate(sorted(key["trials"].items()))]
    (tmp_path / "ans.json").write_text(json.dumps({"rater": "r1", "answers": answers}))
    capsys.readouterr()
    assert main(["rpr", "--answers", str(tmp_path / "ans.json"), "--key", str(out / "key.json"),
                 "--out", str(tmp_path / "rpr.json")]) == 0
    assert "75.0%" in capsys.readouterr().out
    res = json.loads((tmp_path / "rpr.json").read_text())["results"][0]
    assert res["system"] == "other" and res["wins"] == 9 and res["comparisons"] == 12
    assert main(["listening-test", "--systems", "onlyone", "--out", str(tmp_path / "x")]) == 2
