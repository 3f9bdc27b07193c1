"""The multi-track 1D UNet: ``[B, k*d, L]`` in and out, conditioned on a timestep vector and text."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from jen_composer.core.config.composer import UNetConfig
from jen_composer.core.errors import ConfigError
from jen_composer.models.unet.attention import TransformerBlock
from jen_composer.models.unet.blocks import Downsample, ResBlock, Upsample
from jen_composer.models.unet.timestep import TimestepEmbedding


class UNet1D(nn.Module):
    """Residual UNet over latent frames (section 4.1.1: the k track latents share one backbone).

    Self-attention + cross-attention blocks sit at the levels in ``cfg.attention_levels`` and in the
    middle. Text tokens (width ``context_dim``) are projected once to ``cfg.cross_attention_dim``
    (paper: 1024), the key/value width of every cross-attention. Any length L works: the input is
    zero-padded to a multiple of the total down-sampling factor and the output cropped back.
    """

    def __init__(self, cfg: UNetConfig, num_tracks: int, latent_dim: int, context_dim: int,
                 timestep_mode: str) -> None:
        super().__init__()
        _check(cfg)
        self.num_tracks, self.latent_dim = num_tracks, latent_dim
        self.checkpointing = bool(cfg.gradient_checkpointing)
        self.factor = 2 ** (len(cfg.channel_mults) - 1)
        base, groups, heads, xdim = cfg.base_channels, cfg.norm_groups, cfg.attention_heads, cfg.cross_attention_dim
        emb_dim = 4 * base
        self.time_embed = TimestepEmbedding(num_tracks, emb_dim, timestep_mode)
        self.context_proj = nn.Linear(context_dim, xdim)
        self.in_conv = nn.Conv1d(num_tracks * latent_dim, base, 3, padding=1)
        levels = len(cfg.channel_mults)
        attn = set(cfg.attention_levels)

        def res(cin: int, cout: int) -> ResBlock:
            return ResBlock(cin, cout, emb_dim, groups, cfg.dropout)

        self.down = nn.ModuleList()
        skips, ch = [base], base
        for level, mult in enumerate(cfg.channel_mults):
            for _ in range(cfg.res_blocks):
                out = base * mult
                self.down.append(res(ch, out))
                if level in attn:
                    self.down.append(TransformerBlock(out, heads, xdim))
                ch = out
                skips.append(ch)
            if level < levels - 1:
                self.down.append(Downsample(ch))
                skips.append(ch)
        self.mid = nn.ModuleList([res(ch, ch), TransformerBlock(ch, heads, xdim), res(ch, ch)])
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(cfg.channel_mults))):
            for _ in range(cfg.res_blocks + 1):
                out = base * mult
                self.up.append(res(ch + skips.pop(), out))
                if level in attn:
                    self.up.append(TransformerBlock(out, heads, xdim))
                ch = out
            if level > 0:
                self.up.append(Upsample(ch))
        self.out = nn.Sequential(nn.GroupNorm(groups, ch), nn.SiLU(), nn.Conv1d(ch, num_tracks * latent_dim, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    def _run(self, block: nn.Module, h: torch.Tensor, emb: torch.Tensor, ctx: torch.Tensor,
             mask: torch.Tensor) -> torch.Tensor:
        if isinstance(block, ResBlock):
            fn, args = block, (h, emb)
        elif isinstance(block, TransformerBlock):
            fn, args = block, (h, ctx, mask)
        else:
            fn, args = block, (h,)
        if self.checkpointing and self.training and torch.is_grad_enabled():
            return checkpoint(fn, *args, use_reentrant=False)
        return fn(*args)

    def forward(self, x: torch.Tensor, t: torch.Tensor, context: torch.Tensor,
                context_mask: torch.Tensor) -> torch.Tensor:
        """``x [B, k*d, L]``, ``t [B, k]`` or ``[B, k, L]`` long, ``context [B, N, D]``,
        ``context_mask [B, N]`` -> ``[B, k*d, L]``.

        Frame levels ``[B, k, L]`` give each frame its own embedding (``[B, L, E]``), FiLMed into
        every residual block at that block's resolution: halved by averaging frame pairs at each
        down-sampling, as the features are. Frames all at one level embed exactly as that per-track
        level, at every resolution (the pair average of two equal values is exact).
        """
        length = x.shape[-1]
        pad = (-length) % self.factor
        h = F.pad(x, (0, pad))
        if t.dim() == 3 and pad:  # padded frames take the last frame's levels
            t = torch.cat([t, t[..., -1:].expand(*t.shape[:2], pad)], dim=-1)
        embs = [self.time_embed(t)]  # one per resolution, finest first
        ctx = self.context_proj(context)
        mask = context_mask.bool()
        h = self.in_conv(h)
        skips = [h]
        for block in self.down:
            h = self._run(block, h, embs[-1], ctx, mask)
            if not isinstance(block, TransformerBlock):
                skips.append(h)
            else:
                skips[-1] = h
            if isinstance(block, Downsample):
                embs.append(_halve(embs[-1]))
        for block in self.mid:
            h = self._run(block, h, embs[-1], ctx, mask)
        for block in self.up:
            if isinstance(block, ResBlock):
                h = torch.cat([h, skips.pop()], dim=1)
            h = self._run(block, h, embs[-1], ctx, mask)
            if isinstance(block, Upsample):
                embs.pop()
        return self.out(h)[..., :length]


def _halve(emb: torch.Tensor) -> torch.Tensor:
    """A per-frame embedding ``[B, L, E]`` at half the frame rate (mean of frame pairs); a
    per-sample one ``[B, E]`` as is."""
    return (emb[:, 0::2] + emb[:, 1::2]) / 2 if emb.dim() == 3 else emb


def _check(cfg: UNetConfig) -> None:
    widths = [cfg.base_channels * m for m in cfg.channel_mults]
    for w in widths:
        if w % cfg.norm_groups:
            raise ConfigError(f"composer.unet.norm_groups: {cfg.norm_groups} does not divide level width {w}")
        if w % cfg.attention_heads:
            raise ConfigError(f"composer.unet.attention_heads: {cfg.attention_heads} does not divide level width {w}")
    bad = [lvl for lvl in cfg.attention_levels if not 0 <= lvl < len(widths)]
    if bad:
        raise ConfigError(f"composer.unet.attention_levels: {bad} outside 0..{len(widths) - 1}")


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
