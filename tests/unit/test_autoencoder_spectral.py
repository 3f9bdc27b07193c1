"""The spectral encoder/decoder pair: exact lengths, phase-blind encoding, coherent decoding, chunking,
export round trip, bf16 and bad settings."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from jen_composer.core.config.autoencoder import AutoencoderConfig
from jen_composer.core.errors import ConfigError
from jen_composer.models.autoencoder import WaveformVAE, export_autoencoder, load_autoencoder


def spectral(**kw: object) -> WaveformVAE:
    base = dict(
        architecture="spectral", latent_dim=4, base_channels=4, strides=[4, 4], channel_mults=[1, 2], dilations=[1],
        kernel_size=3, sample_rate=8000,
    )
    base.update(kw)
    torch.manual_seed(0)
    return WaveformVAE(AutoencoderConfig(**base)).eval()  # type: ignore[arg-type]


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("length", [1, 15, 16, 203, 1000])
def test_lengths_are_exact(channels: int, length: int) -> None:
    model = spectral(channels=channels)
    wave = torch.randn(2, channels, length) * 0.1
    with torch.no_grad():
        z = model.encode(wave)
        out = model.decode(z, length=length)
        recon, kl = model.train()(wave)
    assert z.shape == (2, 4, model.latent_frames(length))
    assert out.shape == wave.shape == recon.shape
    assert torch.isfinite(out).all() and torch.isfinite(kl)


def test_encoder_ignores_the_phase_of_a_steady_tone() -> None:
    """|STFT| of a bin-centred sine does not depend on its phase, so neither do the latents."""
    model = spectral()
    n_fft, sr = 4 * model.hop, model.sample_rate
    t = torch.arange(sr, dtype=torch.float64) / sr  # float64: float32 phase rounding would leak
    freq = 10 * sr / n_fft  # bin 10's centre
    waves = torch.stack([0.3 * torch.sin(2 * math.pi * freq * t + phi) for phi in (0.0, 1.0, 2.5)])[:, None].float()
    with torch.no_grad():
        z = model.encode_raw(waves)
    inner = z[..., 8:-8]  # frames whose receptive field (STFT window + convs) lies inside the audio
    assert (inner - inner[:1]).abs().max() < 1e-3 * inner.abs().max()
    assert inner[0].std(-1).max() < 1e-3 * inner.abs().max()  # a held note gives a constant latent


def test_held_latent_decodes_to_steady_sinusoids_of_the_predicted_magnitudes() -> None:
    """With no predicted deviation, the integrated phase advances each bin at its centre frequency,
    so a held latent decodes to steady bin-centred cosines. Closed form: the inverse STFT (Hann, hop
    n_fft / 4, window-square normalisation) turns magnitude M_k into a cosine whose DFT over one
    period of n_fft samples has magnitude 4/3 M_k (irfft gain 2 / n_fft, overlap gain 2 / 1.5, DFT gain
    n_fft / 2). A fixed phase per frame (no integration) makes overlapping frames interfere instead."""
    model = spectral()
    head = model.decoder.net[-1]
    n_fft = 4 * model.hop
    bins = n_fft // 2 + 1
    with torch.no_grad():  # zero the deviation and offset rows of the output conv (rows bins..3*bins)
        head.parametrizations.weight.original0[bins:] = 0
        head.bias[bins:] = 0
    z = torch.randn(1, 4, 1).repeat(1, 1, 80)
    with torch.no_grad():
        magnitude = model.decoder.log_magnitude(model.decoder.net(z)[0, :bins, 40]).exp()[1:-1]

    def period_spectrum_over_magnitude() -> torch.Tensor:
        with torch.no_grad():
            wave = model.decode(z)[0, 0]
        period = wave[20 * model.hop : 20 * model.hop + n_fft]  # one period, far from the edges
        return torch.fft.rfft(period.double()).abs()[1:-1] / magnitude

    assert torch.allclose(period_spectrum_over_magnitude(), torch.full((bins - 2,), 4 / 3, dtype=torch.float64), rtol=1e-3)
    model.decoder.centre_advance.zero_()
    assert (period_spectrum_over_magnitude() - 4 / 3).abs().max() > 0.5


def test_chunked_encoding_matches_one_pass_and_decoding_is_one_pass() -> None:
    model = spectral(chunk_seconds=0.5, chunk_overlap_seconds=0.3)
    wave = torch.randn(1, 1, 8000 * 3) * 0.1
    with torch.no_grad():
        chunked = model.encode(wave)
        whole = model.normalise(model.encode_raw(wave))
        assert torch.allclose(chunked, whole, atol=1e-5)
        # a margin below the receptive field (3 convs of kernel 3 + the STFT window) changes the result
        assert not torch.allclose(spectral(chunk_seconds=0.5, chunk_overlap_seconds=0.002).encode(wave), whole, atol=1e-4)
        assert torch.equal(model.decode(whole), model.decode_raw(model.denormalise(whole)))


def test_export_round_trip_is_bit_identical(tmp_path: Path) -> None:
    model = spectral()
    export_autoencoder(model, tmp_path / "ae")
    loaded = load_autoencoder(tmp_path / "ae")
    wave = torch.randn(1, 1, 1000) * 0.1
    with torch.no_grad():
        assert torch.equal(model.encode(wave), loaded.encode(wave))
        assert loaded.checksum() == model.checksum() != spectral(architecture="waveform").checksum()


def test_bf16_autocast_forward_backward_is_finite() -> None:
    model = spectral().train()
    wave = torch.randn(2, 1, 800) * 0.1
    with torch.autocast("cpu", dtype=torch.bfloat16):
        recon, kl = model(wave)
    (recon.float().pow(2).mean() + kl).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_bad_settings_name_the_key() -> None:
    with pytest.raises(ConfigError, match="autoencoder.spectral_fft_size"):
        spectral(spectral_fft_size=8)
    with pytest.raises(ConfigError, match="autoencoder.architecture"):
        WaveformVAE({"architecture": "wavelet"})
