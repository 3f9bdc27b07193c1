"""Evaluation config group (`configs/evaluation/`): CLAP, FAD, coherence metrics."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ClapConfig:
    backend: str = "random"  # random (offline, plumbing only) | laion | transformers
    checkpoint: str = ""  # e.g. music_audioset_epoch_15_esc_90.14.pt, or a hub name
    amodel: str = "HTSAT-base"
    enable_fusion: bool = False


@dataclass
class EvaluationConfig:
    clap: ClapConfig = field(default_factory=ClapConfig)
    every_n_val_epochs: int = 1
    prompts: list[str] = field(default_factory=lambda: ["rock song with distorted guitar"])
    num_clips: int = 8
    seeds: list[int] = field(default_factory=lambda: [0])
    fad_reference: str = ""  # cached reference statistics
