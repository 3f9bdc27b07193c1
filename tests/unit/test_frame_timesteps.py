"""``composer.frame_timesteps``: the composer takes a level per track per latent frame.

Frames all at one level must compute what that per-track level computes (same weights, no new
parameters, so old checkpoints load); a frame's own level must change the output; the loss must
skip known frames; region edits with such a model take the exact path and keep the frames outside
the region bit-exact, in one window and across long-form windows.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from jen_composer.diffusion.generate import generate
from jen_composer.diffusion.objective import masked_loss
from jen_composer.diffusion.request import GenerationRequest
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.longform import sample_windows
from jen_composer.inference.windows import Window, plan_windows
from jen_composer.models.composer import ComposerModel
from tests.unit.test_composer_models import SMALL, small_cfg

pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py
K, D = 3, 2


def _model(frame: bool = True, seed: int = 0) -> ComposerModel:
    """A small random-weight composer whose zero-initialised output layer is randomised (else every
    prediction is 0 and nothing could differ)."""
    torch.manual_seed(seed)
    model = ComposerModel(small_cfg(f"composer.frame_timesteps={str(frame).lower()}"), K, D).eval()
    nn.init.normal_(model.unet.out[-1].weight, std=0.2)
    nn.init.normal_(model.unet.out[-1].bias, std=0.2)
    return model


@pytest.mark.parametrize("length", [8, 11])  # 11: padded to the down-sampling factor
def test_frames_at_one_level_compute_the_per_track_level(length: int) -> None:
    model = _model()
    x = torch.randn(2, K, D, length)
    t = torch.tensor([[0, 500, 1000], [37, 37, 999]])
    tokens, mask = model.encode_text(["calm piano", "drums"])
    with torch.no_grad():
        per_track = model.denoise(x, t, tokens, mask)
        per_frame = model.denoise(x, t[..., None].expand(2, K, length), tokens, mask)
        emb_track = model.unet.time_embed(t)
        emb_frames = model.unet.time_embed(t[..., None].expand(2, K, length))
    assert per_track.abs().mean() > 0.05  # a real prediction, not zeros
    torch.testing.assert_close(emb_frames, emb_track[:, None].expand_as(emb_frames), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(per_frame, per_track, rtol=1e-5, atol=1e-5)


def test_a_frames_level_changes_the_prediction_and_the_option_changes_no_weight() -> None:
    model = _model()
    x, length = torch.randn(1, K, D, 16), 16
    t = torch.full((1, K, length), 400)
    moved = t.clone()
    moved[0, 1, :4] = 0  # the first 4 frames of track 1 become known
    tokens, mask = model.encode_text(["piano"])
    with torch.no_grad():
        a, b = model.denoise(x, t, tokens, mask), model.denoise(x, moved, tokens, mask)
    diff = (a - b).abs().amax(dim=(0, 1, 2))
    assert float(diff[:4].min()) > 1e-4  # the frames whose level moved
    old = _model(frame=False)
    assert old.state_dict().keys() == model.state_dict().keys()  # checkpoints load either way
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in old.state_dict().items())
    with pytest.raises(ValueError, match="frame_timesteps"):
        old.denoise(x, t, tokens, mask)


def test_the_loss_skips_known_frames() -> None:
    pred, target = torch.randn(2, K, D, 6), torch.randn(2, K, D, 6)
    t = torch.full((2, K, 6), 300)
    t[:, 0, :2] = 0  # known frames of a generated track
    t[:, 2] = 1000  # absent track
    changed = pred.clone()
    changed[:, 0, :, :2] += 5.0
    changed[:, 2] += 5.0
    assert torch.equal(masked_loss(changed, target, t, 1000), masked_loss(pred, target, t, 1000))
    gen = torch.ones(2, K, D, 6, dtype=torch.bool)
    gen[:, 0, :, :2], gen[:, 2] = False, False
    assert torch.allclose(masked_loss(pred, target, t, 1000), ((pred - target) ** 2)[gen].mean())
    track = torch.full((2, K), 300)  # per-track levels: the loss as before
    assert torch.allclose(masked_loss(pred, target, track, 1000), ((pred - target) ** 2).mean())


class _Recorder:
    """Wraps ``model.denoise`` to record the level tensors the sampler passes."""

    def __init__(self, model: ComposerModel) -> None:
        self.levels: list[torch.Tensor] = []
        self.inputs: list[torch.Tensor] = []
        inner = model.denoise

        def denoise(x_t, t, tokens, mask):  # noqa: ANN001, ANN202
            self.levels.append(t.clone())
            self.inputs.append(x_t.clone())
            return inner(x_t, t, tokens, mask)

        model.denoise = denoise  # type: ignore[method-assign]


SETTINGS = SamplerSettings(steps=6, text_guidance=2.0)


def test_a_region_edit_takes_the_exact_path_and_keeps_the_rest_bit_exact() -> None:
    model, schedule, length = _model(), NoiseSchedule(1000, "cosine", "v"), 12
    rec = _Recorder(model)
    known = torch.randn(1, K, D, length)
    mask = torch.ones(1, K, length, dtype=torch.bool)
    mask[0, 0, 4:8] = False  # regenerate frames 4..7 of track 0
    req = GenerationRequest(["piano"], ["keep", "keep", "generate"], SETTINGS, seed=3, known=known, known_mask=mask)
    out = generate(model, schedule, req, ["a", "b", "c"])
    assert rec.levels and all(t.dim() == 3 for t in rec.levels)  # frame levels at every call
    for t, x_t in zip(rec.levels, rec.inputs, strict=True):
        assert bool((t[:, 0][:, mask[0, 0]] == 0).all())  # known frames asked as clean conditions
        assert bool((t[:, 0, 4:8] > 0).all()) and bool((t[:, 1] == 0).all())
        rows = x_t.shape[0] // known.shape[0]  # guidance branches batched into one call
        assert torch.equal(x_t[:, 0][..., mask[0, 0]], known[:, 0][..., mask[0, 0]].repeat(rows, 1, 1))  # clean, never re-noised
    assert torch.equal(out[:, :2][mask[:, :2, None, :].expand(1, 2, D, length)],
                       known[:, :2][mask[:, :2, None, :].expand(1, 2, D, length)])
    assert not torch.equal(out[0, 0, :, 4:8], known[0, 0, :, 4:8])
    old = _model(frame=False)
    rec_old = _Recorder(old)
    generate(old, schedule, req, ["a", "b", "c"])
    assert all(t.dim() == 2 for t in rec_old.levels)  # today's models: replacement, per-track levels
    assert not torch.equal(rec_old.inputs[0][:, 0][..., mask[0, 0]], known[:, 0][..., mask[0, 0]].repeat(2, 1, 1))


def test_long_form_windows_continue_through_frame_levels() -> None:
    model, schedule = _model(), NoiseSchedule(1000, "cosine", "v")
    rec = _Recorder(model)
    kept_piece = torch.randn(D, 20)
    outputs: list[tuple[Window, torch.Tensor]] = []

    def kept(win: Window) -> torch.Tensor:
        known = torch.zeros(K, D, win.length)
        known[2] = kept_piece[:, win.start:win.end]
        return known

    def run(req: GenerationRequest, step) -> torch.Tensor:  # noqa: ANN001
        return generate(model, schedule, req, ["a", "b", "c"], progress=step)

    sample_windows(run, plan_windows(20, 8, 4), "piano", ["generate", "generate", "keep"], SETTINGS, 5, kept,
                   lambda win, lat, changed: outputs.append((win, lat.clone())))
    assert len(outputs) >= 3 and any(t.dim() == 3 for t in rec.levels)
    for (win, lat), (prev, prev_lat) in zip(outputs[1:], outputs[:-1], strict=True):
        shift = win.start - prev.start
        assert torch.equal(lat[:2, :, :win.known], prev_lat[:2, :, shift:shift + win.known])  # overlap bit-exact
        assert torch.equal(lat[2], kept_piece[:, win.start:win.end])


def test_edge_jump_ratio_is_one_for_a_seamless_edit_and_grows_with_a_seam() -> None:
    from benchmarks.region_edit import edge_jump_ratio

    real = torch.linspace(0, 1, 12).repeat(2, 1)  # [d, L], constant steps
    assert edge_jump_ratio(real, real, 4, 8) == pytest.approx(1.0)
    seam = real.clone()
    seam[:, 4:8] += 0.5  # the regenerated region is offset: both edges jump
    assert edge_jump_ratio(seam, real, 4, 8) > 10


def test_frame_masks_are_drawn_after_every_other_draw_of_a_training_step() -> None:
    """With a share of 0 the option changes no draw of the step: the loss is the per-track one (to
    float rounding); with masks it differs."""
    import warnings

    from jen_composer.core.config import compose
    from jen_composer.training.composer_module import ComposerModule

    small = [*SMALL, "autoencoder.latent_dim=4", "composer.autoencoder="]
    batch = {"latents": torch.randn(6, 4, 4, 16, generator=torch.Generator().manual_seed(0)), "prompt": ["funk"] * 6}
    losses = {}
    for name, extra in {"off": [], "share0": ["composer.frame_timesteps=true", "curriculum.frame_mask_share=0"],
                        "masked": ["composer.frame_timesteps=true", "curriculum.frame_mask_share=1"]}.items():
        torch.manual_seed(0)
        module = ComposerModule(compose(None, [*small, *extra]))
        nn.init.normal_(module.model.unet.out[-1].weight, std=0.2)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # self.log without a trainer
            losses[name] = float(module.training_step(batch, 0))
    assert losses["share0"] == pytest.approx(losses["off"], rel=1e-5)
    assert losses["masked"] != pytest.approx(losses["off"], rel=1e-3)
