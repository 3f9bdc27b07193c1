"""Composer benchmarks (tiny config, CPU): denoiser speed, generation time, CFG batching, train step.

Shapes follow the tiny autoencoder: 16 kHz, hop 64, d=16, so 10 s = 2500 latent frames and a
2.048 s training snippet = 512 frames; k = 4 tracks.
"""

from __future__ import annotations

import time

import torch

from benchmarks.common import BenchRow, time_call
from jen_composer.core.config import compose
from jen_composer.core.seed import make_generator
from jen_composer.diffusion.generate import generate
from jen_composer.diffusion.guidance import GuidedDenoiser, ModelBranches
from jen_composer.diffusion.objective import diffusion_loss
from jen_composer.diffusion.request import GenerationRequest
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.diffusion.tasks import paper_timesteps
from jen_composer.models.composer import ComposerModel

TRACKS = ["bass", "drums", "instrument", "melody"]
LATENT_DIM, FRAMES_10S, FRAMES_SNIPPET = 16, 2500, 512


def run_benchmarks(quick: bool) -> list[BenchRow]:
    torch.manual_seed(0)
    cfg = compose(None).composer  # the schema defaults are the tiny composer (configs/composer/tiny.yaml)
    model = ComposerModel(cfg, len(TRACKS), LATENT_DIM)
    schedule = NoiseSchedule.from_config(cfg.diffusion)
    threads = torch.get_num_threads()
    conf = f"tiny ({sum(p.numel() for p in model.parameters()) / 1e6:.1f} M params), CPU {threads} threads"
    repeats = 2 if quick else 5
    rows: list[BenchRow] = []

    model.eval()
    x = torch.randn(1, len(TRACKS), LATENT_DIM, FRAMES_10S)
    t = torch.tensor([[999, 999, 0, 1000]])
    tokens, mask = model.encode_text(["[bass & drums generation] upbeat funk"])
    branches = ModelBranches(model, schedule, tokens, mask)
    timings = {}
    with torch.no_grad():
        for batched in (True, False):
            guided = GuidedDenoiser(branches, schedule.T, float(cfg.sampler.text_guidance), 1.0,
                                    torch.tensor([[False, False, True, False]]), torch.randn_like(x), batched)
            timings[batched] = time_call(lambda g=guided: g(x, t), repeats=repeats)
        plain = time_call(lambda: branches(x, t, torch.zeros(1, dtype=torch.long), torch.ones(1, dtype=torch.bool)),
                          repeats=repeats)
    rows.append(BenchRow("composer: denoiser calls", f"{conf}, 4 tracks x 10 s, no CFG", 1 / plain, "calls/s"))
    rows.append(BenchRow("composer: CFG call, batched branches", f"{conf}, text guidance, batch 2", timings[True], "s/call"))
    rows.append(BenchRow("composer: CFG call, two separate forwards", conf, timings[False], "s/call",
                         f"batched is {timings[False] / timings[True]:.2f}x faster"))

    steps = int(cfg.sampler.steps)
    req = GenerationRequest(["upbeat funk"], ["generate"] * 4, SamplerSettings.from_config(cfg.sampler), seed=0,
                            length=FRAMES_10S)
    if quick:
        fast, note = timings[True] * steps, f"{steps} x the measured CFG call (extrapolated)"
    else:
        start = time.perf_counter()
        generate(model, schedule, req, TRACKS)
        fast, note = time.perf_counter() - start, "measured end to end"
    rows.append(BenchRow(f"composer: generate 4 tracks x 10 s, {cfg.sampler.name} {steps} steps", conf, fast, "s", note))
    ddpm_steps = schedule.T  # every level from T
    rows.append(BenchRow(f"composer: generate 4 tracks x 10 s, ddpm {ddpm_steps} steps", conf,
                         timings[True] * ddpm_steps, "s", f"{ddpm_steps} x the measured CFG call (extrapolated)"))

    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-5, betas=(0.9, 0.95), weight_decay=0.1)
    g = make_generator(0)
    x0 = torch.randn(8, len(TRACKS), LATENT_DIM, FRAMES_SNIPPET)
    prompts = ["[bass generation] upbeat funk with slap bass"] * 8

    def train_step() -> None:
        tt = paper_timesteps(8, len(TRACKS), schedule.T, g)
        loss = diffusion_loss(model, schedule, x0, tt, prompts, None, g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step = time_call(train_step, repeats=repeats)
    rows.append(BenchRow("composer: training step (fwd+bwd+AdamW)", f"{conf}, batch 8 x 2.048 s (512 frames)",
                         step, "s/step", f"the data pipeline must deliver 8 snippets in < {step / 10:.3f} s"))
    return rows


if __name__ == "__main__":
    for row in run_benchmarks(quick=True):
        print(f"{row.benchmark:55s} {row.config:70s} {row.value:10.4f} {row.unit:8s} {row.note}")
