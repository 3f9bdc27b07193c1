"""Region edits with a trained checkpoint on held-out songs: do the edges of a regenerated region show?

For each of ``evaluation.num_clips`` songs of ``evaluation.split`` (``evaluation.clip_seconds``, all
stems kept) and each track, the checkpoint regenerates a region of that track: the middle third
(inpainting) or the last third (continuation, as in a long-form window). Scored in latents, where
the sampler works: the edge jump ratio = the mean squared frame-to-frame change across the
region's edges over the mean squared change between consecutive real frames of the same track
(1 = an edge like any other frame step; replacement inpainting's bias shows as > 1). The path is
the sampler's: exact for a checkpoint trained with ``composer.frame_timesteps``, replacement
(+ ``composer.sampler.inpaint_resample`` RePaint passes) otherwise; compare the two checkpoints.
``jen-composer bench --only region_edit --ckpt PATH``; ``--quick``: 2 clips, the first track, 2 steps.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from benchmarks.common import BenchRow
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.bundle import checkpoint_or_bundle
from jen_composer.inference.pipeline import ComposerPipeline
from jen_composer.workflows.evaluate import load_clips

REGIONS = {"inpaint middle third": (1 / 3, 2 / 3), "continue last third": (2 / 3, 1.0)}


def edge_jump_ratio(edited: torch.Tensor, real: torch.Tensor, lo: int, hi: int) -> float:
    """``edited``, ``real`` ``[d, L]``; frames ``lo..hi-1`` were regenerated: squared jumps at the
    region's inner edges over the mean squared step of ``real``."""
    steps = (real[:, 1:] - real[:, :-1]).pow(2).sum(0).mean()
    edges = [edited[:, e] - edited[:, e - 1] for e in (lo, hi) if 0 < e < edited.shape[-1]]
    return float(torch.stack([e.pow(2).sum() for e in edges]).mean() / steps.clamp_min(1e-12))


def run_benchmarks(quick: bool = False, ckpt: str | None = None, num_clips: int | None = None) -> list[BenchRow]:
    """``num_clips``: how many held-out clips (default: the checkpoint's ``evaluation.num_clips``)."""
    pipe = ComposerPipeline.from_checkpoint(checkpoint_or_bundle(ckpt))
    ev = pipe.cfg.evaluation
    count = 2 if quick else int(num_clips or ev.num_clips)
    clips = load_clips(pipe.cfg, str(ev.split), count, float(ev.clip_seconds), pipe.sample_rate)
    settings = SamplerSettings.from_config(pipe.cfg.composer.sampler).replace(steps=2 if quick else None)
    tracks = pipe.tracks[:1] if quick else pipe.tracks
    seconds = float(ev.clip_seconds)
    exact = bool(pipe.model.frame_timesteps)
    path = "exact (frame levels)" if exact else f"replacement + {settings.inpaint_resample} RePaint passes"
    rows = []
    for name, (a, b) in REGIONS.items():
        ratios = []
        for i, clip in enumerate(clips):
            kept = {t: clip.stems[t] for t in pipe.tracks}
            for track in tracks:
                real = pipe.generate_latents(clip.prompt, kept, [], seconds=seconds, seed=i, settings=settings)
                region = (track, a * seconds, b * seconds)
                lat = pipe.generate_latents(clip.prompt, kept, [], seconds=seconds, seed=i, settings=settings,
                                            region=region)
                j = pipe.tracks.index(track)
                mask = pipe.track_parts(kept, [], None, region, seconds, lat.shape[-1])[2]
                free = torch.nonzero(~mask[j]).flatten()  # the frames the sampler regenerated
                ratios.append(edge_jump_ratio(lat[j], real[j], int(free[0]), int(free[-1]) + 1))
        source = f"checkpoint {ckpt}" if ckpt else "bundled checkpoint"
        rows.append(BenchRow(f"region edit: {name}, edge jump ratio", f"{source}, {len(clips)} {ev.split} clips x "
                             f"{len(tracks)} tracks, {settings.name} {settings.steps} steps, {path}",
                             float(np.mean(ratios)), "x real step", f"median {np.median(ratios):.3g}"))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ckpt", help="composer checkpoint (default: the bundled weights)")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    for row in run_benchmarks(args.quick, args.ckpt):
        print(row)


if __name__ == "__main__":
    main()
