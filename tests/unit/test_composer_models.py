"""UNet shapes, timestep modes, text encoders (offline default + FLAN-T5 path), ComposerModel, gradients."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from transformers import ByT5Tokenizer, T5Config, T5EncoderModel

from jen_composer.core.config import compose
from jen_composer.core.errors import CheckpointError, ConfigError
from jen_composer.core.seed import make_generator
from jen_composer.diffusion.objective import diffusion_loss
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.tasks import TaskMixture
from jen_composer.models.composer import ComposerModel, build_composer, join_tracks, split_tracks
from jen_composer.models.text import build_text_encoder
from jen_composer.models.unet import UNet1D, count_parameters

pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py


SMALL = ["composer.unet.base_channels=16", "composer.unet.channel_mults=[1,2]", "composer.unet.attention_levels=[1]",
         "composer.unet.attention_heads=2", "composer.unet.cross_attention_dim=32", "composer.text.dim=32",
         "composer.text.layers=1", "composer.text.heads=2"]


def small_cfg(*overrides: str):  # noqa: ANN201
    return compose(None, [*SMALL, *overrides]).composer


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_composer_shapes_for_k_tracks_and_lengths(k: int) -> None:
    torch.manual_seed(0)
    model = ComposerModel(small_cfg(), num_tracks=k, latent_dim=3).eval()
    for length in (1, 5, 16, 33):
        x = torch.randn(2, k, 3, length)
        t = torch.randint(0, 1001, (2, k))
        with torch.no_grad():
            out = model(x, t, ["calm piano", "loud drums and bass"], torch.tensor([False, True]))
        assert out.shape == (2, k, 3, length)
        assert torch.isfinite(out).all()


def test_split_join_round_trip() -> None:
    x = torch.randn(2, 4, 3, 7)
    assert torch.equal(split_tracks(join_tracks(x), 4), x)
    assert torch.equal(join_tracks(x)[:, 3:6], x[:, 1])  # track 1 occupies channels d..2d


def test_vector_mode_sees_each_tracks_level_shared_mode_does_not() -> None:
    torch.manual_seed(0)
    cfg = small_cfg()
    for mode, distinguishes in (("vector", True), ("shared", False)):
        net = UNet1D(cfg.unet, 2, 2, 8, mode).eval()
        torch.nn.init.normal_(net.out[-1].weight)  # the zero-initialised output would hide everything
        x, ctx, mask = torch.randn(1, 4, 8), torch.randn(1, 3, 8), torch.ones(1, 3, dtype=torch.bool)
        a = net(x, torch.tensor([[500, 0]]), ctx, mask)
        b = net(x, torch.tensor([[0, 500]]), ctx, mask)  # the levels swapped between the tracks
        assert (not torch.allclose(a, b, atol=1e-6)) == distinguishes, mode
    with pytest.raises(ConfigError, match="timestep_mode"):
        UNet1D(cfg.unet, 2, 2, 8, "scalar")


def test_cross_attention_respects_the_padding_mask() -> None:
    torch.manual_seed(0)
    net = UNet1D(small_cfg().unet, 1, 2, 8, "vector").eval()
    torch.nn.init.normal_(net.out[-1].weight)
    x, t = torch.randn(1, 2, 8), torch.tensor([[10]])
    ctx = torch.randn(1, 4, 8)
    mask = torch.tensor([[True, True, False, False]])
    other = ctx.clone()
    other[:, 2:] = 100.0  # padded tokens may hold anything
    assert torch.allclose(net(x, t, ctx, mask), net(x, t, other, mask), atol=1e-5)
    assert not torch.allclose(net(x, t, ctx, mask), net(x, t, other, torch.ones_like(mask)), atol=1e-3)


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    torch.manual_seed(0)
    cfg = small_cfg()
    plain = UNet1D(cfg.unet, 2, 2, 8, "vector")
    torch.nn.init.normal_(plain.out[-1].weight)
    cfg.unet.gradient_checkpointing = True
    ckpt = UNet1D(cfg.unet, 2, 2, 8, "vector")
    ckpt.load_state_dict(plain.state_dict())
    args = (torch.randn(2, 4, 12), torch.tensor([[3, 0], [9, 1000]]), torch.randn(2, 3, 8), torch.ones(2, 3, dtype=torch.bool))
    for net in (plain, ckpt):
        net.train()
        net(*args).square().mean().backward()
    g1, g2 = plain.in_conv.weight.grad, ckpt.in_conv.weight.grad
    assert g1 is not None and g2 is not None and torch.allclose(g1, g2, atol=1e-6)


def test_tiny_and_paper_parameter_counts(repo_root: Path) -> None:
    counts = {}
    for name, (k, d, ctx) in {"tiny": (4, 16, 128), "paper": (4, 128, 1024)}.items():
        body = OmegaConf.load(repo_root / "configs" / "composer" / f"{name}.yaml")
        cfg = OmegaConf.merge(compose(None).composer, body)
        with torch.device("meta"):
            counts[name] = count_parameters(UNet1D(cfg.unet, k, d, ctx, cfg.diffusion.timestep_mode))
        if name == "paper":
            assert cfg.unet.cross_attention_dim == 1024
    assert 2_000_000 < counts["tiny"] < 6_000_000  # CPU-sized: 3.48 M
    assert 200_000_000 < counts["paper"] < 400_000_000  # documented: 296.9 M (UNet only)


def test_paper_experiments_build_at_paper_size_without_allocating(repo_root: Path) -> None:
    """The paper recipes themselves (not shrunk) build: the UNet and the VAE on the meta device."""
    from jen_composer.models.autoencoder import WaveformVAE

    cfg = compose(repo_root / "experiments/composer/paper.yaml")
    assert (cfg.data.sample_rate, cfg.data.channels, len(cfg.data.tracks)) == (48000, 2, 4)
    assert cfg.composer.unet.cross_attention_dim == 1024 and cfg.composer.text.kind == "flan_t5"
    assert cfg.autoencoder.latent_dim == 128
    with torch.device("meta"):
        unet = UNet1D(cfg.composer.unet, len(cfg.data.tracks), cfg.autoencoder.latent_dim,
                      cfg.composer.unet.cross_attention_dim, cfg.composer.diffusion.timestep_mode)
    assert all(p.is_meta for p in unet.parameters())
    assert 200_000_000 < count_parameters(unet) < 400_000_000
    ae_cfg = compose(repo_root / "experiments/autoencoder/paper.yaml").autoencoder
    with torch.device("meta"):
        vae = WaveformVAE(ae_cfg)
    assert (vae.hop, vae.latent_dim, vae.sample_rate, vae.channels) == (320, 128, 48000, 2)
    assert all(p.is_meta for p in vae.parameters())


def _capture_output(model: ComposerModel) -> dict:
    """Keep the network output of the next ``denoise`` call (with its gradient) in the returned dict."""
    captured: dict = {}
    original = model.denoise

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        out = original(*args, **kwargs)
        out.retain_grad()
        captured["out"] = out
        return out

    model.denoise = spy  # type: ignore[method-assign]
    return captured


def test_no_loss_gradient_from_condition_or_absent_track_outputs() -> None:
    torch.manual_seed(0)
    model = ComposerModel(small_cfg(), num_tracks=3, latent_dim=2)
    schedule = NoiseSchedule(100, "cosine", "v")
    captured = _capture_output(model)
    x0 = torch.randn(2, 3, 2, 8)
    t = torch.tensor([[0, 40, 100], [100, 0, 7]])  # condition / generated / absent per row
    loss = diffusion_loss(model, schedule, x0, t, ["a", "b"], generator=make_generator(0))
    loss.backward()
    grad = captured["out"].grad
    assert grad is not None
    gen = (t > 0) & (t < 100)
    assert bool((grad[~gen] == 0).all())
    assert bool((grad[gen].abs().sum(dim=(-1, -2)) > 0).all())


def test_text_dropout_uses_the_null_embedding() -> None:
    torch.manual_seed(0)
    model = ComposerModel(small_cfg(), 1, 2)
    tokens, mask = model.encode_text(["rock", "a much longer prompt"])
    dropped, dmask = model.drop_text(tokens, mask, torch.tensor([True, False]))
    assert torch.equal(dropped[1], tokens[1]) and torch.equal(dmask[1], mask[1])
    assert torch.equal(dropped[0, 0], model.null_text[0]) and dmask[0].tolist() == [True] + [False] * (mask.shape[1] - 1)


def test_byt5_small_default_encoder_is_offline_and_trainable() -> None:
    enc = build_text_encoder(small_cfg().text)
    tokens, mask = enc(["drums", "slow jazz with upright bass"])
    assert tokens.shape[:2] == mask.shape and tokens.shape[2] == enc.dim == 32
    assert mask[0].sum() == len("drums") + 1 and bool(mask[1].all())  # bytes + EOS
    assert any(p.requires_grad for p in enc.parameters())


def save_tiny_t5(folder: Path, with_tokenizer: bool = True) -> None:
    tok = ByT5Tokenizer()
    cfg = T5Config(vocab_size=len(tok), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2)
    T5EncoderModel(cfg).save_pretrained(folder)
    if with_tokenizer:
        tok.save_pretrained(folder)


def test_flan_t5_path_loads_frozen_and_caches(tmp_path: Path) -> None:
    save_tiny_t5(tmp_path / "t5")
    cfg = small_cfg("composer.text.kind=flan_t5", f"composer.text.name_or_path={tmp_path / 't5'}").text
    enc = build_text_encoder(cfg)
    assert enc.dim == 16 and not any(p.requires_grad for p in enc.parameters())
    calls = []
    enc.encoder.register_forward_hook(lambda *a: calls.append(1))
    a, ma = enc(["bass", "drums", "bass"])
    b, mb = enc(["drums", "bass"])
    assert len(calls) == 1  # the second batch and the repeated prompt come from the cache
    assert torch.allclose(b[1, : mb[1].sum()], a[0, : ma[0].sum()])
    fresh, _ = enc._encode(["drums"])
    assert torch.allclose(b[0, : mb[0].sum()], fresh[0], atol=1e-6)


def test_flan_t5_path_without_a_tokenizer_fails_clearly(tmp_path: Path) -> None:
    save_tiny_t5(tmp_path / "bare", with_tokenizer=False)  # AutoTokenizer returns an EMPTY T5Tokenizer here
    cfg = small_cfg("composer.text.kind=flan_t5", f"composer.text.name_or_path={tmp_path / 'bare'}").text
    with pytest.raises(CheckpointError, match="tokenizer did not load"):
        build_text_encoder(cfg)
    cfg.name_or_path = str(tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match="does not exist"):
        build_text_encoder(cfg)
    cfg.name_or_path = "google/flan-t5-small"  # offline: no hub
    with pytest.raises(CheckpointError, match="google/flan-t5-small"):
        build_text_encoder(cfg)


def test_build_composer_from_config() -> None:
    model = build_composer(small_cfg(), 4, 16)
    assert model.num_tracks == 4 and model.latent_dim == 16
    with pytest.raises(ConfigError, match="composer.text.kind"):
        build_composer(small_cfg("composer.text.kind=bert"), 4, 16)


def test_the_mix_track_is_one_more_input_group_the_loss_never_covers() -> None:
    torch.manual_seed(0)
    plain, mixed = ComposerModel(small_cfg(), 2, 2), ComposerModel(small_cfg("composer.mix_track=true"), 2, 2)
    assert (plain.num_tracks, mixed.num_tracks, mixed.condition_tracks) == (2, 3, 1)
    assert mixed.unet.in_conv.in_channels == plain.unet.in_conv.in_channels + 2
    schedule = NoiseSchedule(100, "cosine", "v")
    captured = _capture_output(mixed)
    t = TaskMixture((0.5, 0.5), condition_only=1, separation=0.5, extraction=0.25, arrangement=0.25).sample(
        6, 100, make_generator(1))
    x0 = torch.randn(6, 3, 2, 8)
    diffusion_loss(mixed, schedule, x0, t, ["a"] * 6, generator=make_generator(0)).backward()
    assert bool((captured["out"].grad[:, 2] == 0).all())  # the mix's output group: never in the loss
    assert bool((t[:, 2] == 0).any()) and set(t[:, 2].tolist()) <= {0, 100}
