"""``ComposerModel``: the multi-track UNet + a text encoder + a learned null text embedding (CFG)."""

from __future__ import annotations

import torch
from torch import nn

from jen_composer.core.config.composer import ComposerConfig
from jen_composer.core.tracks import has_mix_track
from jen_composer.models.text import build_text_encoder
from jen_composer.models.unet import UNet1D


def split_tracks(x: torch.Tensor, num_tracks: int) -> torch.Tensor:
    """``[B, k*d, L]`` -> ``[B, k, d, L]`` (tracks are concatenated on channels, section 4.1.1)."""
    b, c, length = x.shape
    return x.reshape(b, num_tracks, c // num_tracks, length)


def join_tracks(x: torch.Tensor) -> torch.Tensor:
    """``[B, k, d, L]`` -> ``[B, k*d, L]``."""
    b, k, d, length = x.shape
    return x.reshape(b, k * d, length)


class ComposerModel(nn.Module):
    """Predicts eps or v (``cfg.diffusion.prediction``) for all k tracks at once.

    Built for ``num_tracks`` stems; ``self.num_tracks`` counts the model's input groups: the stems,
    then the mix when ``cfg.mix_track`` (``condition_tracks`` = 1; its output group is never used:
    the mix is never generated).

    Text can be given as prompts (``forward``) or pre-encoded (``denoise``) so that a sampler
    encodes once and batches the conditional and unconditional CFG branches into one call.
    The null text is one learned token; ``drop_text`` rows use it instead of their prompt.
    With ``cfg.frame_timesteps`` it also takes a level per frame (``UNet1D.forward``), with the same
    weights, so the sampler's region edits are exact (``frame_levels`` of ``ModelBranches``).
    """

    def __init__(self, cfg: ComposerConfig, num_tracks: int, latent_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        # the mix (``cfg.mix_track``) is one more condition-only input group after the stems
        self.condition_tracks = 1 if has_mix_track(cfg) else 0
        # a level per track per latent frame (t [B, k, L]); same weights, absent from older configs
        self.frame_timesteps = bool(getattr(cfg, "frame_timesteps", False))
        self.num_tracks, self.latent_dim = num_tracks + self.condition_tracks, latent_dim
        self.text_encoder = build_text_encoder(cfg.text)
        dim = self.text_encoder.dim
        self.null_text = nn.Parameter(torch.randn(1, dim) * 0.02)
        self.unet = UNet1D(cfg.unet, self.num_tracks, latent_dim, dim, cfg.diffusion.timestep_mode)

    def encode_text(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens [B, N, D], mask [B, N])`` for the prompts (task prefixes already joined)."""
        return self.text_encoder(list(prompts))

    def null_context(self, batch: int, length: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """The null text as ``[batch, length, D]`` tokens whose mask keeps only the first token."""
        tokens = self.null_text.new_zeros(batch, length, self.null_text.shape[1])
        tokens = torch.cat([self.null_text.expand(batch, 1, -1), tokens[:, 1:]], dim=1)
        mask = torch.zeros(batch, length, dtype=torch.bool, device=tokens.device)
        mask[:, 0] = True
        return tokens, mask

    def drop_text(self, tokens: torch.Tensor, mask: torch.Tensor,
                  drop: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Replace the rows where ``drop [B]`` is True by the null text."""
        if drop is None:
            return tokens, mask
        # Always through torch.where (even when no row is dropped) so that the null embedding is part
        # of every training graph: DDP then needs no unused-parameter search.
        null_tokens, null_mask = self.null_context(tokens.shape[0], tokens.shape[1])
        d = drop.to(tokens.device).bool()
        return (torch.where(d[:, None, None], null_tokens.to(tokens.dtype), tokens),
                torch.where(d[:, None], null_mask, mask))

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, tokens: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """``x_t [B, k, d, L]``, ``t [B, k]`` (or ``[B, k, L]`` with ``frame_timesteps``), pre-encoded
        text -> raw prediction ``[B, k, d, L]``."""
        if x_t.dim() != 4 or x_t.shape[1] != self.num_tracks or x_t.shape[2] != self.latent_dim:
            raise ValueError(f"x_t must be [B, {self.num_tracks}, {self.latent_dim}, L], got {tuple(x_t.shape)}")
        if t.dim() == 3 and (not self.frame_timesteps or t.shape[-1] != x_t.shape[-1]):
            raise ValueError(f"frame levels {tuple(t.shape)} need composer.frame_timesteps and one level per frame of x_t")
        out = self.unet(join_tracks(x_t), t.long(), tokens, mask)
        return split_tracks(out, self.num_tracks)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, prompts: list[str],
                drop_text: torch.Tensor | None = None) -> torch.Tensor:
        tokens, mask = self.drop_text(*self.encode_text(prompts), drop_text)
        return self.denoise(x_t, t, tokens, mask)


def build_composer(cfg: ComposerConfig, num_tracks: int, latent_dim: int) -> ComposerModel:
    """The composer for ``num_tracks`` stems (``len(cfg.data.tracks)``, plus the mix when
    ``cfg.mix_track``) of ``latent_dim`` channels."""
    return ComposerModel(cfg, num_tracks, latent_dim)
