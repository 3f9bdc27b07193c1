"""GPU checks at the paper configuration (``make test-gpu``; deselected and skipped without CUDA).

They run the functions of benchmarks/gpu_throughput.py briefly and check what must hold on any
CUDA card: finite bf16 losses with and without torch.compile, a plausible MFU, the flash SDPA
kernel, and a 4 tracks x 10 s 48 kHz stereo generation that finishes with finite latents.
"""

from __future__ import annotations

import pytest
import torch

from benchmarks import gpu_throughput as bench

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_bf16_training_step_at_paper_size(compiled: bool) -> None:
    r = bench.train_throughput(compiled, iters=3, warmup=2)
    print(r)
    assert r["loss"] == r["loss"] and r["loss"] < 10  # finite, not diverged
    assert r["tflops_per_step"] > 0.1  # the paper UNet at batch 6 x 10.24 s is TFLOPs per step
    if r["mfu"] == r["mfu"]:  # known card
        assert 0.0 < r["mfu"] < 1.0


def test_sdpa_flash_attention_path() -> None:
    assert bench.flash_attention_runs()


def test_sampling_latency_four_tracks_ten_seconds_48k_stereo() -> None:
    r = bench.sampling_latency(10.0, repeats=1)
    print(r)
    assert r["finite"] == 1.0
    assert r["seconds"] > 0


def test_peak_table_knows_the_common_cards() -> None:
    assert bench.peak_tflops("NVIDIA H100 80GB HBM3") == 989.0
    assert bench.peak_tflops("some unknown card") is None
