"""What machine did this: platform, cores, threads, GPU, and its speed measured right now.

The speed (float32 GFLOP/s of a fixed matmul, the median of a few calls) sits beside every time
the demo and the bundle record, so that a slow or busy machine shows up as such.
"""

from __future__ import annotations

import os
import platform
import time


def matmul_gflops(size: int = 512, repeats: int = 10) -> float:
    """Median float32 GFLOP/s of ``size`` x ``size`` matmuls on torch's default threads."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    times = []
    for i in range(repeats + 2):  # the first two warm up
        start = time.perf_counter()
        torch.mm(a, b)
        if i >= 2:
            times.append(time.perf_counter() - start)
    return 2 * size**3 / sorted(times)[len(times) // 2] / 1e9


def machine_facts() -> dict[str, object]:
    import torch

    return {"platform": platform.platform(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "matmul_gflops": round(matmul_gflops(), 1)}
