"""Text prompts from a song's tags and caption (task tokens are added later, by the composer)."""

from __future__ import annotations

from typing import Any

import numpy as np

from jen_composer.core.config.data import PromptConfig
from jen_composer.data.schema import TAG_KEYS, SongMeta


def tag_phrase(key: str, value: Any) -> str:
    """One tag as words: tempo 120 -> '120 bpm', lists joined with commas."""
    if isinstance(value, list):
        return ", ".join(value)
    if key == "tempo" and isinstance(value, int | float):
        return f"{round(value)} bpm"
    return str(value)


def tag_phrases(tags: dict[str, Any]) -> list[str]:
    """Canonical order: genre, instruments, mood, tempo, key, then any other tags by name."""
    keys = [k for k in TAG_KEYS if k in tags] + sorted(k for k in tags if k not in TAG_KEYS)
    return [p for p in (tag_phrase(k, tags[k]) for k in keys) if p]


def build_prompt(meta: SongMeta, cfg: PromptConfig, rng: np.random.Generator | None = None) -> str:
    """Training (``rng`` given): caption or shuffled tags with dropout. Evaluation: canonical tags."""
    phrases = tag_phrases(meta.tags)
    if rng is None:
        return ", ".join(phrases) if phrases else meta.caption
    if meta.caption and (not phrases or rng.random() < cfg.caption_probability):
        return meta.caption
    kept = [p for p in phrases if rng.random() >= cfg.tag_dropout]
    if not kept and phrases:
        kept = [phrases[int(rng.integers(len(phrases)))]]
    if cfg.shuffle_tags:
        kept = [kept[i] for i in rng.permutation(len(kept))]
    return ", ".join(kept)
