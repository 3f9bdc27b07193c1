"""Frame-mask training tasks (``composer.frame_timesteps``): inpainting and continuation as frame levels.

With frame levels ``t [B, k, L]`` a frame at 0 is a clean condition, exactly as a kept track is,
so a region edit (``diffusion.generate``) asks the network with the known frames at t=0. To teach it
that, a share of training samples (``curriculum.frame_mask_share``) regenerates only a contiguous
span of frames of their generated tracks and turns the rest of those tracks into known frames (t=0,
outside the loss, since ``objective.masked_loss`` counts only frames with 0 < t < T):

- the regenerated span is the prefix (known suffix), the suffix (known prefix: continuation) or an
  inner span (known on both sides: inpainting), each kind with probability 1/3 (1/2 each of the
  first two when L = 2, where no inner span exists);
- its length n ~ U{1..L-1} (prefix, suffix) or U{1..L-2} (inner, whose start ~ U{1..L-1-n}), so
  at least one frame is known and at least one regenerated (``span_probabilities``: closed form);
- it applies to every generated track of the sample (as long-form windows do, where every moving
  track continues the previous window) or, with probability 1/2, to one generated track chosen
  uniformly (a region edit of one track).
"""

from __future__ import annotations

import torch

from jen_composer.core.errors import ConfigError
from jen_composer.diffusion.tasks import generated_mask

SPAN_KINDS = ("prefix", "suffix", "inner")  # which frames are regenerated; the rest of the track is known
ALL_TRACKS = 0.5  # probability that the span applies to every generated track, not one


def span_kinds(length: int) -> int:
    """How many of ``SPAN_KINDS`` exist for ``length`` frames (an inner span needs 3)."""
    if length < 2:
        raise ConfigError(f"composer.frame_timesteps: frame masks need at least 2 latent frames, got {length}")
    return 3 if length >= 3 else 2


def _uniform(u: torch.Tensor, low: int | torch.Tensor, count: int | torch.Tensor) -> torch.Tensor:
    """``u`` ~ U[0, 1) (float64) -> U{low .. low + count - 1} (long)."""
    count = torch.as_tensor(count, device=u.device)
    return low + (u * count).floor().long().clamp(max=count - 1)


def regenerated_spans(batch: int, length: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """``(kind, start, stop)``, each ``[B]`` long: frames ``start..stop-1`` are regenerated. Always
    the same number of draws."""
    device = generator.device
    kind = torch.randint(0, span_kinds(length), (batch,), generator=generator, device=device)
    u_len, u_start = torch.rand(2, batch, generator=generator, device=device, dtype=torch.float64)
    inner = kind == 2
    n = torch.where(inner, _uniform(u_len, 1, max(length - 2, 1)), _uniform(u_len, 1, length - 1))
    inner_start = _uniform(u_start, 1, (length - 1 - n).clamp_min(1))
    start = torch.where(kind == 0, 0, torch.where(kind == 1, length - n, inner_start))
    return kind, start, start + n


def span_probabilities(length: int) -> dict[tuple[str, int, int], float]:
    """Closed form of `regenerated_spans`: probability of every (kind, start, stop)."""
    kinds = span_kinds(length)
    out: dict[tuple[str, int, int], float] = {}
    for n in range(1, length):
        out[("prefix", 0, n)] = 1.0 / (kinds * (length - 1))
        out[("suffix", length - n, length)] = 1.0 / (kinds * (length - 1))
    if kinds == 3:
        for n in range(1, length - 1):
            for start in range(1, length - n):
                out[("inner", start, start + n)] = 1.0 / (3 * (length - 2) * (length - 1 - n))
    return out


def frame_mask_levels(t: torch.Tensor, length: int, share: float, T: int,
                      generator: torch.Generator) -> torch.Tensor:
    """Track levels ``t [B, k]`` -> frame levels ``[B, k, L]``: in a ``share`` of the samples the
    frames outside a regenerated span of the chosen generated tracks are known (0). Always the same
    number of draws from ``generator``."""
    if not 0.0 <= share <= 1.0:
        raise ConfigError(f"curriculum.frame_mask_share: {share} is outside [0, 1]")
    device, (b, k) = generator.device, t.shape
    use = torch.rand(b, generator=generator, device=device) < share
    _, start, stop = regenerated_spans(b, length, generator)
    every = torch.rand(b, generator=generator, device=device) < ALL_TRACKS
    gen = generated_mask(t, T).to(device)
    scores = torch.where(gen, torch.rand(b, k, generator=generator, device=device), -1.0)
    one = torch.zeros_like(gen).scatter_(1, scores.argmax(1, keepdim=True), True)
    tracks = gen & (every[:, None] | one)
    frames = torch.arange(length, device=device)
    regenerated = (frames >= start[:, None]) & (frames < stop[:, None])  # [B, L]
    known = (use[:, None, None] & tracks[..., None] & ~regenerated[:, None, :]).to(t.device)
    return torch.where(known, torch.zeros((), dtype=t.dtype, device=t.device), t[..., None].expand(b, k, length))


def track_levels(t: torch.Tensor) -> torch.Tensor:
    """``[B, k]`` levels for role counts and task tokens: a track with some frames known and the rest
    at level s is generated (its top level, s); ``[B, k]`` levels as they are."""
    return t.amax(dim=-1) if t.dim() == 3 else t


def realised_frame_shares(t: torch.Tensor, T: int) -> dict[str, torch.Tensor]:
    """What a batch of frame levels ``[B, k, L]`` trained on: the share of samples with a frame mask
    (some generated track with known frames) and the mean share of known frames in masked tracks."""
    masked = generated_mask(t, T).any(-1) & (t == 0).any(-1)  # [B, k]
    known = (t == 0).float().mean(-1)
    count = masked.sum().clamp_min(1)
    return {"tasks/frame_masked": masked.any(1).float().mean(),
            "tasks/frame_known": (known * masked).sum() / count}


def validation_frame_tasks(t: torch.Tensor, length: int, T: int) -> list[tuple[str, torch.Tensor]]:
    """Fixed frame-mask tasks for validation, from track levels ``t [B, k]``: ``continue`` (the first
    half of every generated track known, the rest regenerated) and ``inpaint`` (the middle half
    regenerated, the quarters around it known)."""
    span_kinds(length)
    frames = torch.arange(length, device=t.device)
    half, quarter = max(length // 2, 1), max(length // 4, 1)
    regions = {"continue": frames >= half, "inpaint": (frames >= quarter) & (frames < length - quarter)}
    gen = generated_mask(t, T)[..., None]
    out = []
    for name, regenerated in regions.items():
        levels = t[..., None].expand(*t.shape, length)
        out.append((name, torch.where(gen & ~regenerated, torch.zeros_like(levels), levels)))
    return out
