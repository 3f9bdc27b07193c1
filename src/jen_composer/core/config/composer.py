"""Composer config group (`configs/composer/`): UNet, text encoder, diffusion, guidance, sampler."""

from __future__ import annotations

from dataclasses import dataclass, field

from jen_composer.core.config.options import NoiseScheduleKind, Prediction, TextEncoderKind, TimestepMode


def _tiny_mults() -> list[int]:
    return [1, 2, 2]


def _attn_levels() -> list[int]:
    return [2]


@dataclass
class UNetConfig:
    base_channels: int = 64
    channel_mults: list[int] = field(default_factory=_tiny_mults)
    res_blocks: int = 1
    attention_levels: list[int] = field(default_factory=_attn_levels)  # indices into channel_mults
    attention_heads: int = 4
    cross_attention_dim: int = 128  # paper: 1024
    norm_groups: int = 8  # GroupNorm groups (must divide every level's width)
    dropout: float = 0.0
    gradient_checkpointing: bool = False


@dataclass
class TextEncoderConfig:
    kind: TextEncoderKind = TextEncoderKind.byt5_small  # byt5_small: offline, trained jointly; flan_t5: frozen, by name/path
    name_or_path: str = "google/flan-t5-large"
    dim: int = 128  # d_model of the small offline encoder
    layers: int = 2
    heads: int = 4
    max_length: int = 96
    frozen: bool = True  # applies to flan_t5
    cache_size: int = 1024  # embeddings of repeated prompts


@dataclass
class DiffusionConfig:
    timesteps: int = 1000
    schedule: NoiseScheduleKind = NoiseScheduleKind.cosine
    prediction: Prediction = Prediction.v
    timestep_mode: TimestepMode = TimestepMode.vector  # vector (paper) | shared (ablation baseline)


@dataclass
class SamplerConfig:
    name: str = "unipc"  # diffusion.samplers.SAMPLERS: unipc | dpmpp3m | dpmpp2m | ddim | ddpm
    steps: int = 25  # denoiser calls (a CFG call batches its branches into one network forward)
    time_grid: str = "logsnr"  # diffusion.samplers.TIME_GRIDS: logsnr | karras | uniform (see diffusion.grids)
    text_guidance: float = 3.0
    stem_guidance: float = 1.0  # 1.0 = no extra guidance towards the kept stems
    eta: float = 0.0  # stochasticity: DDIM's eta; > 0 makes DPM-Solver++ its SDE variant
    inpaint_resample: int = 0  # region edits: extra RePaint passes per step (each one more denoiser call)
    # an explicit grid: the log-SNR of each point strictly between T and 0 (steps - 1 values, any order),
    # e.g. calibrated to a model and task by diffusion.calibration; empty = the time_grid rule
    logsnr_points: list[float] = field(default_factory=list)


@dataclass
class ComposerConfig:
    unet: UNetConfig = field(default_factory=UNetConfig)
    text: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    task_tokens: bool = True  # prefix prompts with "[bass & drums generation]"
    text_dropout: float = 0.1  # CFG: probability of the null text in training
    mix_track: bool = False  # the mix as one more condition-only latent track (given or absent, never generated)
    frame_timesteps: bool = False  # a level per track per latent frame: exact inpainting/continuation (trained with frame masks)
    autoencoder: str = ""  # exported autoencoder artefact dir used to decode (and encode audio)
