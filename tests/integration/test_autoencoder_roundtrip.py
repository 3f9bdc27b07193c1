"""`autoencoder roundtrip`: a lossless codec keeps every score; one that destroys pitch does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from jen_composer.models.autoencoder.base import NormalisedAutoencoder
from jen_composer.workflows.roundtrip import roundtrip_fit


class Codec(NormalisedAutoencoder):
    """hop 1, one latent per channel: the identity, or white noise of the same loudness when `scramble`."""

    hop, latent_dim, sample_rate, channels = 1, 1, 16000, 1

    def __init__(self, scramble: bool) -> None:
        super().__init__(1, 10.0, 0.5)
        self.scramble = scramble

    def encode_raw(self, wave: torch.Tensor) -> torch.Tensor:
        return wave

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        if not self.scramble:
            return z
        g = torch.Generator().manual_seed(0)
        return torch.randn(z.shape, generator=g) * z.std(dim=-1, keepdim=True)

    def describe(self) -> dict:
        return {"kind": "test_codec", "scramble": self.scramble}


@pytest.mark.parametrize("scramble", [False, True])
def test_roundtrip_keeps_scores_only_for_a_faithful_codec(tiny_songs: Path, scramble: bool) -> None:
    result = roundtrip_fit(Codec(scramble), tiny_songs, split="train", clips=2, seconds=2.0, log=lambda _: None)
    harmonic = result["scores"]["harmonic_fit"]
    assert result["songs"] == 2 and harmonic["original"] > 0.4  # the rendered stems play their chords
    if scramble:
        assert not result["passed"] and harmonic["relative_change"] < -0.2
    else:
        assert result["passed"] and abs(harmonic["relative_change"]) < 1e-6
        assert result["scores"]["chroma_agreement"]["reconstruction"] > 0.99
    for track in ("bass", "instrument", "melody"):  # per stem, not gated
        row = result["scores"][f"harmonic_fit/{track}"]
        assert row["original"] > 0.2 and "harmonic_fit/drums" not in result["scores"]
        assert (row["relative_change"] < -0.1) if scramble else abs(row["relative_change"]) < 1e-6
        agreement = result["scores"][f"chroma_agreement/{track}"]["reconstruction"]
        assert (agreement < 0.9) if scramble else agreement > 0.99


class LowBandProbe:
    """Stands in for the trained probe: 'accuracy' = share of the clip's energy below 1 kHz."""

    def __init__(self) -> None:
        self.tracks: list[str | None] = []

    def accuracy(self, wave, sr, labels, track) -> float:  # noqa: ANN001
        self.tracks.append(track)
        power = np.abs(np.fft.rfft(wave)) ** 2
        return float(power[np.fft.rfftfreq(len(wave), 1 / sr) < 1000].sum() / max(power.sum(), 1e-12))


@pytest.mark.parametrize("scramble", [False, True])
def test_roundtrip_compares_probe_accuracy_on_stems_and_mix(tiny_songs: Path, scramble: bool) -> None:
    probe = LowBandProbe()
    result = roundtrip_fit(Codec(scramble), tiny_songs, split="train", clips=1, seconds=2.0, log=lambda _: None,
                           probe=probe)
    row = result["scores"]["probe_accuracy"]
    assert set(probe.tracks) == {"bass", "drums", "instrument", "melody", None}  # every stem and the mix
    assert row["original"] > 0.5
    if scramble:
        assert not result["passed"] and row["relative_change"] < -0.2
    else:
        assert abs(row["relative_change"]) < 1e-6
