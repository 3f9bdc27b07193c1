"""Waveform VAE: exact shapes/lengths over hops, channels and odd lengths; chunking; bottlenecks; bf16."""

from __future__ import annotations

import pytest
import torch

from jen_composer.core.config.autoencoder import AutoencoderConfig
from jen_composer.core.errors import ConfigError
from jen_composer.models.autoencoder import WaveformVAE, compute_latent_stats


def tiny(**kw: object) -> WaveformVAE:
    base = dict(latent_dim=4, base_channels=4, strides=[2, 2], channel_mults=[1, 2], dilations=[1], kernel_size=3)
    base.update(kw)
    torch.manual_seed(0)
    return WaveformVAE(AutoencoderConfig(**base)).eval()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("strides", "channels", "sample_rate"),
    [([2, 2], 1, 8000), ([4, 5], 2, 48000), ([3], 3, 11025), ([2, 4, 5], 2, 44100)],
)
@pytest.mark.parametrize("length", [1, 7, 64, 203])
def test_shapes_and_lengths_are_exact(strides: list[int], channels: int, sample_rate: int, length: int) -> None:
    model = tiny(strides=strides, channel_mults=[1] * len(strides), channels=channels, sample_rate=sample_rate)
    hop = 1
    for s in strides:
        hop *= s
    assert model.hop == hop and model.channels == channels and model.sample_rate == sample_rate
    wave = torch.randn(2, channels, length)
    with torch.no_grad():
        z = model.encode(wave)
        out = model.decode(z, length=length)
        untrimmed = model.decode(z)
        recon, regularisers = model.train()(wave)
    assert z.shape == (2, model.latent_dim, -(-length // hop)) == (2, 4, model.latent_frames(length))
    assert out.shape == wave.shape and recon.shape == wave.shape
    assert untrimmed.shape[-1] == z.shape[-1] * hop
    assert torch.isfinite(regularisers["kl"])


def test_rejects_bad_shapes() -> None:
    model = tiny()
    with pytest.raises(ValueError, match="expected wave"):
        model.encode(torch.randn(1, 2, 16))
    with pytest.raises(ValueError, match="expected latents"):
        model.decode(torch.randn(1, 3, 4))


def test_bad_config_names_the_key() -> None:
    with pytest.raises(ConfigError, match="autoencoder.channel_mults"):
        WaveformVAE(AutoencoderConfig(strides=[2, 2], channel_mults=[1]))
    with pytest.raises(ConfigError, match="autoencoder.bottleneck"):
        WaveformVAE(AutoencoderConfig(bottleneck="vq"))


def test_chunked_matches_one_shot_and_a_too_small_margin_does_not() -> None:
    model = tiny(sample_rate=1000, chunk_overlap_seconds=0.2)
    wave = torch.randn(1, 1, 2501)
    with torch.no_grad():
        whole = model.encode(wave, chunk_seconds=100.0)
        chunked = model.encode(wave, chunk_seconds=0.3)
        assert chunked.shape == whole.shape
        torch.testing.assert_close(chunked, whole, atol=1e-5, rtol=1e-5)
        dec_whole = model.decode(whole, length=2501, chunk_seconds=100.0)
        dec_chunked = model.decode(whole, length=2501, chunk_seconds=0.3)
        torch.testing.assert_close(dec_chunked, dec_whole, atol=1e-5, rtol=1e-5)
        model.overlap_seconds = 0.001  # one frame of context: less than the receptive field
        assert (model.encode(wave, chunk_seconds=0.3) - whole).abs().max() > 1e-3


@pytest.mark.parametrize("bottleneck", ["vae", "plain", "tanh"])
def test_bottlenecks(bottleneck: str) -> None:
    model = tiny(bottleneck=bottleneck)
    wave = torch.randn(2, 1, 40)
    with torch.no_grad():
        z = model.encode(wave)
        assert torch.equal(z, model.encode(wave))  # deterministic (posterior mean)
        if bottleneck == "tanh":
            assert z.abs().max() < 1
        model.train()
        _, regularisers = model(wave)
    assert (regularisers["kl"] > 0) == (bottleneck == "vae")


def test_latent_stats_make_latents_unit_scale_and_decode_undoes_them() -> None:
    model = tiny()
    torch.manual_seed(1)
    batches = [{"audio": 3.0 * torch.randn(2, 4, 1, 128)} for _ in range(3)]
    batches[0]["audio"][:, 0] = 0.0  # silent tracks are skipped
    with torch.no_grad():
        before = model.decode_raw(model.encode_raw(batches[1]["audio"][:, 1]))
        stats = compute_latent_stats(model, batches)
        assert not torch.allclose(stats["std"], torch.ones(4))
        z = torch.cat([model.encode(b["audio"].reshape(-1, 1, 128)) for b in batches[1:]], dim=0)
        assert z.mean(dim=(0, 2)).abs().max() < 0.3
        assert ((z.std(dim=(0, 2)) - 1).abs().max()) < 0.3
        after = model.decode(model.encode(batches[1]["audio"][:, 1]))
    torch.testing.assert_close(after, before, atol=1e-4, rtol=1e-4)


def test_bf16_autocast_forward_backward_is_finite() -> None:
    from jen_composer.models.autoencoder.losses import ReconstructionLoss

    model = tiny(sample_rate=8000, stft_fft_sizes=[256, 128], mel_bins=16).train()
    loss_fn = ReconstructionLoss(model.cfg)
    wave = 0.5 * torch.randn(2, 1, 600)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        recon, regularisers = model(wave)
        terms = loss_fn(recon, wave, regularisers)
    assert recon.dtype == torch.bfloat16  # the convs really ran in bf16
    terms["loss"].backward()
    assert torch.isfinite(terms["loss"])
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_checksum_tracks_weights_and_config() -> None:
    a, b = tiny(), tiny()
    assert a.checksum() == b.checksum()
    with torch.no_grad():
        b.latent_std.mul_(2)
    assert a.checksum() != b.checksum()
    assert tiny(kl_weight=1.0).checksum() != a.checksum()
