"""The tracks a composer model sees: the configured stems, then the mix when ``composer.mix_track``.

The mix is a condition-only track: it is given (t = 0) or absent (t = T), never generated, and the
loss never covers it. It is always the last track, so a model without it sees exactly the old k.
"""

from __future__ import annotations

from typing import Any

MIX = "mix"  # the name of the mix wherever tracks and the mix are listed together


def has_mix_track(cfg: Any) -> bool:
    """Whether a run config's composer takes the mix (absent from configs older than the option)."""
    composer = cfg.composer if hasattr(cfg, "composer") else cfg
    return bool(getattr(composer, "mix_track", False))


def model_tracks(cfg: Any) -> list[str]:
    """``cfg.data.tracks`` plus ``MIX`` when the composer takes the mix: the model's track axis."""
    return [*cfg.data.tracks, *([MIX] if has_mix_track(cfg) else [])]
