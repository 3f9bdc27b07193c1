"""The separation anchors and scores have known answers: the mix as the estimate of one of two
orthogonal, equally loud stems scores 0 dB (waveform and magnitude); the ideal ratio mask recovers
stems with disjoint spectra almost exactly; a copy with every phase turned by 90 degrees fails the
waveform SI-SDR and passes the magnitude SDR; a silent stem is missing, not a number; the command's
tables come from its JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from jen_composer.cli.main import main
from jen_composer.metrics.separation_scores import (
    MEAN,
    ideal_ratio_mask,
    magnitude_sdr,
    mix_floor,
    score_stems,
    si_sdr,
    summarise,
)

SR = 16000


def _sine(freq: float, seconds: float = 1.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_floor_of_two_orthogonal_equal_stems_is_zero_db_and_three_db_below_for_half_the_power() -> None:
    stems = {"bass": _sine(100), "melody": _sine(1000)}
    scores = score_stems(mix_floor(stems), stems)
    assert scores["bass"] == pytest.approx(0.0, abs=0.01) and scores["melody"] == pytest.approx(0.0, abs=0.01)
    quiet = {"bass": _sine(100, amp=0.3 / np.sqrt(2)), "melody": _sine(1000)}
    assert score_stems(mix_floor(quiet), quiet)["bass"] == pytest.approx(-10 * np.log10(2), abs=0.01)


def test_magnitude_sdr_is_blind_to_phase_and_scale_but_not_to_level_errors() -> None:
    from scipy.signal import hilbert

    rng = np.random.default_rng(1)
    for ref in (_sine(440) + _sine(1500, amp=0.1), (0.1 * rng.standard_normal(SR)).astype(np.float32)):
        turned = np.imag(hilbert(ref)).astype(np.float32)  # every component's phase turned by 90 degrees
        assert si_sdr(turned, ref) < -10  # orthogonal to the reference: the waveform score fails it
        assert magnitude_sdr(turned, ref) > 15  # same magnitudes (up to the window's edges)
        assert magnitude_sdr(3.0 * ref, ref) > 100  # scale-invariant
        assert magnitude_sdr(ref + 0.1 * turned, ref) > magnitude_sdr(ref + 0.3 * turned, ref)
    stems = {"bass": _sine(100), "melody": _sine(1000)}
    floor = score_stems(mix_floor(stems), stems, "magnitude_sdr")
    assert floor["bass"] == pytest.approx(0.0, abs=0.1) and floor["melody"] == pytest.approx(0.0, abs=0.1)
    assert np.isnan(magnitude_sdr(np.ones(SR), np.zeros(SR)))
    silent = np.zeros(SR, dtype=np.float32)  # a separator that returns silence: a number, as SI-SDR gives
    assert np.isfinite(magnitude_sdr(silent, stems["bass"])) and np.isfinite(si_sdr(silent, stems["bass"]))
    assert magnitude_sdr(silent, stems["bass"]) < floor["bass"] + 0.5


def test_ideal_ratio_mask_recovers_disjoint_spectra_and_beats_the_floor() -> None:
    stems = {"bass": _sine(100), "melody": _sine(2000)}
    irm = score_stems(ideal_ratio_mask(stems), stems)
    assert irm["bass"] > 30 and irm["melody"] > 30
    rng = np.random.default_rng(0)
    noisy = {t: rng.standard_normal(SR).astype(np.float32) * 0.1 for t in ("bass", "drums")}  # same spectrum
    assert score_stems(ideal_ratio_mask(noisy), noisy)[MEAN] > score_stems(mix_floor(noisy), noisy)[MEAN] + 2


def test_a_silent_stem_is_missing_and_the_mean_skips_it() -> None:
    stems = {"bass": _sine(100), "drums": np.zeros(SR, dtype=np.float32)}
    scores = score_stems(mix_floor(stems), stems)
    assert np.isnan(scores["drums"]) and scores[MEAN] == pytest.approx(scores["bass"])
    assert np.isnan(si_sdr(np.ones(10), np.zeros(10)))
    rows = summarise([scores, score_stems(mix_floor(stems), stems)], ["bass", "drums"])
    assert rows["drums"].n == 0 and rows["bass"].n == 2


def test_evaluate_separation_command_writes_the_anchor_table(tiny_songs: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "sep"
    assert main(["evaluate-separation", "--data", str(tiny_songs), "--split", "train", "--songs", "2",
                 "--seconds", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| mix as every stem (floor) |" in printed and "| ideal ratio mask (ceiling) |" in printed
    assert "| mix as every stem (floor) |" in printed and "magnitude SDR" in printed
    data = json.loads((out / "separation.json").read_text())
    assert len(data["songs"]) == 2 and data["command"].startswith("jen-composer evaluate-separation")
    for score in ("si_sdr", "magnitude_sdr"):
        floor, ceiling = data["rows"][score]["mix as every stem (floor)"], data["rows"][score]["ideal ratio mask (ceiling)"]
        assert ceiling[MEAN]["mean"] > floor[MEAN]["mean"], score
        assert len(data["per_song"][score]["mix as every stem (floor)"]) == 2
        gain = data["vs_floor"][score]["ideal ratio mask (ceiling)"][MEAN]  # paired by song
        assert gain["mean"] == pytest.approx(ceiling[MEAN]["mean"] - floor[MEAN]["mean"]) and gain["n"] == 2
        assert "mix as every stem (floor)" not in data["vs_floor"][score]
    assert "Minus the floor, paired by song" in printed
    assert "Command: `jen-composer evaluate-separation" in (out / "separation.md").read_text()
    assert main(["evaluate-separation", "--data", str(tiny_songs), "--seconds", "0.01"]) == 2  # < one STFT frame
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--seconds 0.01: too short" in err[0]
