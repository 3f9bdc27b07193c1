"""GPU figures at the paper configuration (bf16): training throughput and MFU, SDPA flash attention,
sampling latency for 4 tracks x 10 s at 48 kHz stereo.

Run on a CUDA machine: ``python -m benchmarks.gpu_throughput`` (prints a table) or ``make test-gpu``
(tests/integration/test_gpu.py runs the same functions briefly). The UNet, latent shapes and batch
follow experiments/composer/paper.yaml; the text encoder is the offline ``byt5_small`` (FLAN-T5
weights cannot be fetched on an offline machine, and the frozen encoder is not the hot path).
MFU = model FLOPs per step (counted by torch's FlopCounterMode, fwd + bwd) x steps/s / the card's
dense bf16 peak.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from jen_composer.core.config import compose
from jen_composer.core.seed import make_generator
from jen_composer.diffusion.generate import generate
from jen_composer.diffusion.objective import diffusion_loss
from jen_composer.diffusion.request import GenerationRequest
from jen_composer.diffusion.schedule import NoiseSchedule
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.diffusion.tasks import paper_timesteps
from jen_composer.models.composer import ComposerModel

EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "composer" / "paper.yaml"
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0,
                    "RTX 4090": 165.0}  # dense bf16 tensor-core peaks (SXM parts), from the vendors' data sheets


def peak_tflops(name: str) -> float | None:
    return next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)


def paper_setup(device: torch.device) -> tuple[ComposerModel, NoiseSchedule, object]:
    cfg = compose(EXPERIMENT, ["composer.text.kind=byt5_small"])
    model = ComposerModel(cfg.composer, len(cfg.data.tracks), int(cfg.autoencoder.latent_dim)).to(device)
    return model, NoiseSchedule.from_config(cfg.composer.diffusion), cfg


def latent_frames(cfg: object, seconds: float) -> int:
    hop = 1
    for s in cfg.autoencoder.strides:  # type: ignore[attr-defined]
        hop *= int(s)
    return round(seconds * int(cfg.autoencoder.sample_rate) / hop)  # type: ignore[attr-defined]


def train_throughput(compiled: bool, iters: int = 10, warmup: int = 3, compile_mode: str | None = None,
                     flash: bool = False, compile_unet_only: bool = False) -> dict[str, float]:
    """bf16 autocast training steps at the paper's per-GPU batch and snippet length.

    ``flash`` takes cuDNN attention (the default dispatcher's choice on Hopper) out of SDPA's choices,
    so unmasked self-attention runs the flash kernel and masked attention (text cross-attention, the
    T5 encoder's position bias) the memory-efficient or math one; ``compile_mode`` is torch.compile's mode
    (``reduce-overhead`` replays CUDA graphs, the cure for a launch-bound step). ``compile_unet_only``
    compiles the denoiser network alone: the whole model breaks its graph at the tokenizer (3 breaks,
    4 graphs, by ``torch._dynamo.explain``), the UNet is one graph (tests/unit/test_unet_compiles.py)."""
    import contextlib

    from torch.nn.attention import SDPBackend, sdpa_kernel
    device = torch.device("cuda")
    model, schedule, cfg = paper_setup(device)
    batch, k = int(cfg.data.batch_size), len(cfg.data.tracks)
    frames = latent_frames(cfg, float(cfg.data.snippet_seconds))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-5, betas=(0.9, 0.95), weight_decay=0.1, fused=True)
    if compiled and compile_unet_only:
        model.unet = torch.compile(model.unet, mode=compile_mode)  # type: ignore[assignment]
    net = torch.compile(model, mode=compile_mode) if compiled and not compile_unet_only else model
    backends = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]  # no cuDNN
    kernels = (lambda: sdpa_kernel(backends)) if flash else contextlib.nullcontext  # noqa: E731
    g = make_generator(0, device)
    x0 = torch.randn(batch, k, int(cfg.autoencoder.latent_dim), frames, device=device)
    prompts = ["[bass generation] upbeat funk with slap bass"] * batch

    def step() -> torch.Tensor:
        if compile_mode == "reduce-overhead":
            torch.compiler.cudagraph_mark_step_begin()  # one training iteration per CUDA-graph generation
        t = paper_timesteps(batch, k, schedule.T, g)
        with kernels():  # around backward too: activation checkpointing recomputes attention there
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = diffusion_loss(net, schedule, x0, t, prompts, None, g)
            opt.zero_grad(set_to_none=True)
            loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        loss = step()
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / iters
    peak = peak_tflops(torch.cuda.get_device_name())
    flops = float(counter.get_total_flops())
    return {"loss": float(loss), "step_s": seconds, "samples_per_s": batch / seconds, "tflops_per_step": flops / 1e12,
            "mfu": flops / seconds / (peak * 1e12) if peak else float("nan")}


def flash_kernels_in_training_step(flash: bool = False) -> dict[str, int]:
    """Kernels of one bf16 training step at the paper size, counted by name from torch.profiler.

    Self-attention has no mask, so SDPA's dispatcher may pick the flash kernel; the text
    cross-attention carries a padding mask, which flash does not take (efficient/cuDNN/math instead).
    """
    from torch.profiler import ProfilerActivity, profile

    device = torch.device("cuda")
    model, schedule, cfg = paper_setup(device)
    batch, k = int(cfg.data.batch_size), len(cfg.data.tracks)
    frames = latent_frames(cfg, float(cfg.data.snippet_seconds))
    g = make_generator(0, device)
    x0 = torch.randn(batch, k, int(cfg.autoencoder.latent_dim), frames, device=device)
    prompts = ["[bass generation] upbeat funk with slap bass"] * batch
    t = paper_timesteps(batch, k, schedule.T, g)
    import contextlib

    from torch.nn.attention import SDPBackend, sdpa_kernel

    backends = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        with torch.autocast("cuda", dtype=torch.bfloat16), (sdpa_kernel(backends) if flash else contextlib.nullcontext()):
            diffusion_loss(model, schedule, x0, t, prompts, None, g).backward()
        torch.cuda.synchronize()
    names = [e.key.lower() for e in prof.key_averages() if e.key.startswith("aten::_")]
    counts = {e.key.lower(): int(e.count) for e in prof.key_averages()}
    return {kind: sum(counts[n] for n in names if kind in n) for kind in ("flash", "efficient", "cudnn")}


def flash_attention_runs() -> bool:
    """The UNet's attention through SDPA's flash kernel only (raises when flash is unavailable)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from jen_composer.models.unet.attention import Attention

    attn = Attention(512, 8).cuda().to(torch.bfloat16)
    x = torch.randn(2, 1536, 512, device="cuda", dtype=torch.bfloat16)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        y = attn(x)
    return bool(torch.isfinite(y).all())


def sampling_latency(seconds: float = 10.0, repeats: int = 2) -> dict[str, float]:
    """Generate 4 tracks x ``seconds`` with the configured sampler (bf16), then decode them to 48 kHz stereo.

    Both networks carry random weights: the timing depends on their shapes, not on their training.
    """
    from jen_composer.models.autoencoder.model import WaveformVAE

    device = torch.device("cuda")
    model, schedule, cfg = paper_setup(device)
    vae = WaveformVAE(cfg.autoencoder).to(device).eval()
    frames = latent_frames(cfg, seconds)
    req = GenerationRequest(["upbeat funk"], ["generate"] * len(cfg.data.tracks),
                            SamplerSettings.from_config(cfg.composer.sampler), seed=0, length=frames)
    times, decode_times = [], []
    for _ in range(repeats + 1):
        torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = generate(model, schedule, req, list(cfg.data.tracks))
        torch.cuda.synchronize()
        mid = time.perf_counter()
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
            wave = vae.decode(out[0].float(), length=round(seconds * int(cfg.autoencoder.sample_rate)))
        torch.cuda.synchronize()
        times.append(mid - start)
        decode_times.append(time.perf_counter() - mid)
    return {"seconds": min(times[1:]), "decode_seconds": min(decode_times[1:]), "steps": float(cfg.composer.sampler.steps),
            "finite": float(torch.isfinite(out).all() and torch.isfinite(wave).all()),
            "audio_shape": float(wave.shape[0] * 1000 + wave.shape[1]), "audio_samples": float(wave.shape[-1])}


def _row(label: str, fn) -> None:  # noqa: ANN001
    """Print one row; a failing row prints its error and the others still run."""
    try:
        print(f"{label}: {fn()}", flush=True)
    except Exception as exc:  # noqa: BLE001 - a benchmark table reports what broke and goes on
        print(f"{label}: FAILED {type(exc).__name__}: {exc}", flush=True)


def _train_row(compiled: bool, **kwargs: object) -> str:
    r = train_throughput(compiled, **kwargs)  # type: ignore[arg-type]
    return (f"{r['samples_per_s']:.2f} samples/s, {r['step_s'] * 1e3:.1f} ms/step, "
            f"{r['tflops_per_step']:.2f} TFLOP/step, MFU {r['mfu']:.1%}, loss {r['loss']:.3f}")


def _latency_row() -> str:
    lat = sampling_latency()
    return (f"{lat['seconds']:.2f} s for {lat['steps']:.0f} denoiser calls, + {lat['decode_seconds']:.2f} s decoding "
            f"to audio ({int(lat['audio_shape']) // 1000} tracks x {int(lat['audio_shape']) % 1000} channels x "
            f"{int(lat['audio_samples'])} samples), finite={bool(lat['finite'])}")


ROWS: dict[str, tuple[str, object]] = {
    "eager": ("train step bf16, eager", lambda: _train_row(False)),
    "compile": ("train step bf16, torch.compile", lambda: _train_row(True)),
    "flash": ("train step bf16, eager, SDPA without cuDNN (flash for self-attention)", lambda: _train_row(False, flash=True)),
    "flash-kernels": ("attention kernel calls in that step", lambda: flash_kernels_in_training_step(flash=True)),
    "reduce-overhead": ("train step bf16, torch.compile mode=reduce-overhead (CUDA graphs)",
                        lambda: _train_row(True, compile_mode="reduce-overhead")),
    "compile-unet": ("train step bf16, torch.compile of the UNet alone", lambda: _train_row(True, compile_unet_only=True)),
    "reduce-overhead-unet": ("train step bf16, torch.compile mode=reduce-overhead of the UNet alone",
                             lambda: _train_row(True, compile_mode="reduce-overhead", compile_unet_only=True)),
    "flash-runs": ("SDPA flash kernel runs the UNet attention", flash_attention_runs),
    "kernels": ("attention kernel calls in one training step", flash_kernels_in_training_step),
    "latency": ("sampling 4 tracks x 10 s, 48 kHz stereo (bf16)", _latency_row),
}


def main(argv: list[str] | None = None) -> int:
    """Print the rows named by ``--rows`` (comma-separated keys of ROWS; all by default), in one process."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m benchmarks.gpu_throughput", description=__doc__.splitlines()[0])
    p.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, in order, of: {', '.join(ROWS)}")
    keys = [k for k in p.parse_args(argv).rows.split(",") if k]
    unknown = [k for k in keys if k not in ROWS]
    if unknown:
        p.error(f"--rows: unknown {', '.join(unknown)}; known: {', '.join(ROWS)}")
    name = torch.cuda.get_device_name()
    print(f"device: {name}, torch {torch.__version__}, bf16 dense peak {peak_tflops(name)} TFLOP/s", flush=True)
    for k in keys:
        label, fn = ROWS[k]
        _row(label, fn)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
