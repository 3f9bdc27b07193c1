"""Peak RSS of a long piece, 60 s vs 240 s: memory must stay flat in the length (issue 15).

Each length runs in a fresh Python process (so one run's peak cannot hide another's) that loads the
checkpoint (the bundled weights by default), resets the kernel's peak-RSS mark (loading peaks
higher than generating), generates every track jointly at that length as windows
(``composition.longform``) and reports generation's peak resident set size and wall time. What grows
with the length is only the output itself (k tracks x C x S float32) and the per-window latents of
nothing but the window in hand. Memory does not depend on the step count, so ``steps`` defaults to 2
to keep the 240 s run short; pass ``--steps`` for a timing at the config's sampler.

``jen-composer bench --only longform_memory [--ckpt PATH]`` or ``python -m benchmarks.longform_memory``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import BenchRow

LENGTHS = (60.0, 240.0)
ROOT = Path(__file__).resolve().parents[1]


def _status_mib(key: str) -> float:
    """A ``VmRSS`` / ``VmHWM`` line of /proc/self/status in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {key}")


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0), so the peak after it is generation's own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def child(ckpt: str | None, seconds: float, steps: int) -> dict[str, float]:
    """Runs in the fresh process: load, reset the peak mark, generate, read the peak."""
    from jen_composer.diffusion.settings import SamplerSettings
    from jen_composer.inference.bundle import checkpoint_or_bundle
    from jen_composer.inference.longform_audio import piece_windows
    from jen_composer.inference.pipeline import ComposerPipeline

    pipe = ComposerPipeline.from_checkpoint(checkpoint_or_bundle(ckpt))
    load_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    reset = _reset_peak()
    loaded = _status_mib("VmRSS")
    settings = SamplerSettings.from_config(pipe.cfg.composer.sampler).replace(steps=steps)
    start = time.perf_counter()
    out = pipe.generate("bench: steady rock groove", {}, list(pipe.tracks), seconds=seconds, seed=0, settings=settings)
    took = time.perf_counter() - start
    peak = _status_mib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    output_mb = sum(v.nbytes for v in out.values()) / 2**20
    return {"seconds": seconds, "windows": len(piece_windows(pipe, seconds)), "loaded_mb": loaded, "peak_mb": peak,
            "load_peak_mb": load_peak, "reset": float(reset),
            "output_mb": output_mb, "wall_s": took, "steps": settings.steps, "sampler": settings.name}


def measure(ckpt: str | None, seconds: float, steps: int) -> dict[str, float]:
    """One length in a fresh subprocess (same interpreter, this checkout's sources first)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "benchmarks.longform_memory", "--child", "--seconds", str(seconds), "--steps", str(steps)]
    if ckpt:
        cmd += ["--ckpt", ckpt]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"longform_memory child ({seconds:g} s) failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_benchmarks(quick: bool = False, ckpt: str | None = None, steps: int = 2) -> list[BenchRow]:
    lengths = (20.0, 40.0) if quick else LENGTHS
    runs = [measure(ckpt, s, steps) for s in lengths]
    source = f"checkpoint {ckpt}" if ckpt else "bundled checkpoint"
    rows = []
    for r in runs:
        config = f"{source}, 4 tracks jointly, {r['seconds']:g} s = {r['windows']} windows, {r['sampler']} {r['steps']} steps, CPU"
        what = "peak while generating (mark reset after loading)" if r["reset"] else "peak of the process (no peak reset here)"
        note = (f"{what}; RSS after loading {r['loaded_mb']:.0f} MiB (loading peaked at {r['load_peak_mb']:.0f}); "
                f"output {r['output_mb']:.1f} MiB; {r['wall_s']:.1f} s wall; fresh process")
        rows.append(BenchRow("longform: peak RSS", config, r["peak_mb"], "MiB", note))
    a, b = runs
    rows.append(BenchRow("longform: peak RSS growth", f"{a['seconds']:g} s -> {b['seconds']:g} s",
                         b["peak_mb"] - a["peak_mb"], "MiB",
                         f"{b['seconds'] / a['seconds']:g}x the length; output grows by {b['output_mb'] - a['output_mb']:.1f} MiB"))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ckpt", help="composer checkpoint (default: the bundled weights)")
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.ckpt, args.seconds, args.steps)))
        return
    for row in run_benchmarks(args.quick, args.ckpt, args.steps):
        print(row)


if __name__ == "__main__":
    main()
