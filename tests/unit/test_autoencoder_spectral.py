"""The spectral encoder/decoder pair: exact lengths, phase-blind encoding, exact framing of the training
pass, Griffin-Lim decoding, chunking, export round trip, bf16 and bad settings."""

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


@pytest.mark.parametrize("phase", ["griffin_lim", "predicted"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("length", [1, 15, 16, 203, 1000])
def test_lengths_are_exact(channels: int, length: int, phase: str) -> None:
    model = spectral(channels=channels, spectral_phase=phase)
    wave = torch.randn(2, channels, length) * 0.1
    with torch.no_grad():
        z = model.encode(wave)
        out = model.decode(z, length=length)
        recon, regularisers = model.train()(wave)
    assert z.shape == (2, 4, model.latent_frames(length))
    assert out.shape == wave.shape == recon.shape
    assert torch.isfinite(out).all() and torch.isfinite(regularisers["kl"])
    assert ("phase" in regularisers) == (phase == "predicted")


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


def chord(sample_rate: int, seconds: float) -> torch.Tensor:
    t = torch.arange(int(sample_rate * seconds), dtype=torch.float64) / sample_rate
    return sum(0.2 * torch.sin(2 * math.pi * f * t + i) for i, f in enumerate((220.0, 277.2, 329.6))).float()


def test_training_pass_with_the_true_magnitudes_returns_the_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """Training borrows the input's phase: given the input's own |STFT|, the decoder gives the input back
    (same framing in the encoder's STFT, the phase source and the inverse STFT)."""
    model = spectral()
    dec = model.decoder
    wave = chord(model.sample_rate, 0.5)[None, None]
    true = spectral_magnitude(wave[:, 0], dec)
    monkeypatch.setattr(dec, "heads", lambda z: (true, None))
    with torch.no_grad():
        recon, _ = model(wave)
    assert torch.allclose(recon, wave, atol=1e-5)


def spectral_magnitude(wave: torch.Tensor, dec: torch.nn.Module) -> torch.Tensor:
    from jen_composer.models.autoencoder.spectral import stft_frames

    return stft_frames(wave, dec.n_fft, dec.hop, dec.window).abs()


def test_griffin_lim_recovers_a_consistent_phase_deterministically() -> None:
    """Decoding has no phase to go on: fast Griffin-Lim must find a waveform whose |STFT| matches the
    target magnitudes (spectral convergence well below zero-phase's), the same one every time."""
    from jen_composer.models.autoencoder.spectral import griffin_lim

    model = spectral()
    dec = model.decoder
    target = spectral_magnitude(chord(model.sample_rate, 1.0)[None], dec)

    def convergence(iters: int) -> tuple[float, torch.Tensor]:
        wave = griffin_lim(target, dec.n_fft, dec.hop, dec.window, iters)
        got = spectral_magnitude(wave, dec)
        return float((got - target).norm() / target.norm()), wave

    zero_phase, _ = convergence(0)
    recovered, wave = convergence(32)
    assert recovered < 0.1 < zero_phase
    assert torch.equal(wave, convergence(32)[1])


def test_chunked_encoding_matches_one_pass_and_decoding_is_one_pass() -> None:
    model = spectral(chunk_seconds=0.5, chunk_overlap_seconds=0.3)
    wave = torch.randn(1, 1, 8000 * 3) * 0.1
    with torch.no_grad():
        chunked = model.encode(wave)
        whole = model.normalise(model.encode_raw(wave))
        assert torch.allclose(chunked, whole, atol=1e-5)
        # a margin below the receptive field (3 convs of kernel 3 + the STFT window) changes the result
        assert not torch.allclose(spectral(chunk_seconds=0.5, chunk_overlap_seconds=0.002).encode(wave), whole, atol=1e-4)
        assert torch.equal(model.decode(whole), model.decode_raw(model.denormalise(whole)))  # deterministic, one pass


def test_export_round_trip_is_bit_identical(tmp_path: Path) -> None:
    model = spectral()
    export_autoencoder(model, tmp_path / "ae")
    loaded = load_autoencoder(tmp_path / "ae")
    wave = torch.randn(1, 1, 1000) * 0.1
    with torch.no_grad():
        assert torch.equal(model.encode(wave), loaded.encode(wave))
        assert loaded.checksum() == model.checksum() != spectral(architecture="waveform").checksum()


def test_a_waveform_model_describes_itself_without_the_spectral_keys() -> None:
    """The description enters the checksum that bundles, exports and latent caches record: adding the
    spectral keys must not change a waveform model's checksum."""
    from jen_composer.models.autoencoder.model import SPECTRAL_KEYS

    waveform = spectral(architecture="waveform").describe()["config"]
    assert not set(SPECTRAL_KEYS) & set(waveform)
    # likewise a spectral model without phase locking describes itself as before that key existed
    assert set(SPECTRAL_KEYS) - {"spectral_phase_locking"} <= set(spectral().describe()["config"])
    assert "spectral_phase_locking" not in spectral().describe()["config"]
    assert set(SPECTRAL_KEYS) <= set(spectral(spectral_phase="predicted", spectral_phase_locking=True).describe()["config"])


def test_phase_advance_loss_is_zero_for_the_true_advances_and_tells_a_wrong_frequency() -> None:
    """Known answers: every bin a tone reaches (its bin and the window's side bins) advances by the
    tone's frequency, 2 pi f hop / sr per frame: predicting that scores ~0, predicting it +pi/2 scores
    1 - cos(pi/2) = 1, and predicting each bin's own centre advance is wrong on the side bins (0.5)."""
    from jen_composer.models.autoencoder.spectral import phase_advance_loss, stft_frames

    model = spectral(spectral_phase="predicted")
    dec = model.decoder
    sr, n_fft = model.sample_rate, 4 * model.hop
    t = torch.arange(sr, dtype=torch.float64) / sr
    tone = (0.3 * torch.sin(2 * math.pi * (10 * sr / n_fft) * t)).float()[None]
    spec = stft_frames(tone, n_fft, model.hop, dec.window)[..., 8:-8]
    right = dec.centre_advance[10].expand_as(spec.real)
    assert phase_advance_loss(right, spec) < 1e-4
    assert abs(float(phase_advance_loss(dec.centre_advance.expand_as(spec.real), spec)) - 0.5) < 1e-3
    assert abs(float(phase_advance_loss(right + math.pi / 2, spec)) - 1.0) < 1e-3


def test_predicted_advances_decode_to_the_predicted_frequency_without_griffin_lim() -> None:
    """With the phase head, decoding integrates the advances: a held latent whose bin-10 deviation is
    +pi/2 per hop (a quarter bin... in frequency: + sr / (4 hop)) decodes to a tone at that frequency."""
    model = spectral(spectral_phase="predicted", spectral_phase_iters=0)
    dec = model.decoder
    n_fft, bins, sr = 4 * model.hop, 4 * model.hop // 2 + 1, model.sample_rate
    head = dec.net[-1]
    with torch.no_grad():  # magnitude: only bin 10 loud; deviation: atanh(0.5) -> pi/2 everywhere
        head.parametrizations.weight.original0.zero_()
        head.bias[:bins] = -20.0
        head.bias[10] = 3.0
        head.bias[bins:] = math.atanh(0.5)
    with torch.no_grad():
        wave = model.decode(torch.zeros(1, 4, 200))[0, 0, 20 * model.hop : -20 * model.hop]
    spectrum = torch.fft.rfft(wave.double() * torch.hann_window(wave.shape[-1], dtype=torch.float64)).abs()
    peak_hz = float(spectrum.argmax()) * sr / wave.shape[-1]
    expected = 10 * sr / n_fft + (math.pi / 2) / (2 * math.pi) * sr / model.hop
    assert abs(peak_hz - expected) < sr / wave.shape[-1] * 2


def test_bf16_autocast_forward_backward_is_finite() -> None:
    model = spectral().train()
    wave = torch.randn(2, 1, 800) * 0.1
    with torch.autocast("cpu", dtype=torch.bfloat16):
        recon, regularisers = model(wave)
    (recon.float().pow(2).mean() + sum(regularisers.values())).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_bad_settings_name_the_key() -> None:
    with pytest.raises(ConfigError, match="autoencoder.spectral_fft_size"):
        spectral(spectral_fft_size=8)
    with pytest.raises(ConfigError, match="autoencoder.spectral_phase_iters"):
        spectral(spectral_phase_iters=-1)
    with pytest.raises(ConfigError, match="autoencoder.architecture"):
        WaveformVAE({"architecture": "wavelet"})
