"""Generation of any length as windows, each conditioned on the overlap with the previous one.

Every window is one ordinary sampler request of window length. A track that moves in the piece
(generated, re-imagined, or with a region to regenerate) enters window w > 0 as a region edit: the
frames the previous window already made are its known frames (``known_mask`` True), the rest is
regenerated. So the overlap conditioning goes through the sampler's one region-edit machinery
(exact with a per-frame-level denoiser such as a ``composer.frame_timesteps`` model; replacement +
optional RePaint passes otherwise). Kept
tracks are cut into the same windows and are clean conditions in each. Only one window's latents
are alive at a time: ``on_window`` receives them (the pipeline decodes and stitches them there), so
memory does not grow with the length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from jen_composer.diffusion.request import GenerationRequest
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.windows import Window

WindowSampler = Callable[[GenerationRequest, Callable[[int, int], None] | None], torch.Tensor]  # -> [1, k, d, Lw]
KeptLatents = Callable[[Window], torch.Tensor]  # the kept tracks' clean latents in a window [k, d, Lw]
OnWindow = Callable[[Window, torch.Tensor, torch.Tensor], None]  # (window, latents [k, d, Lw], changed [k])


def window_seed(seed: int, index: int) -> int:
    """Window 0 uses the request's seed (a one-window piece is the ordinary request); later
    windows get distinct, reproducible seeds."""
    return int(seed) if index == 0 else (int(seed) + 1_000_003 * index) % 2**31


class WindowProgress:
    """One progress bar over all windows: window w's step s of n reports (w * n + s, windows * n)."""

    def __init__(self, progress: Callable[[int, int], None] | None, windows: int, steps: int) -> None:
        self.progress, self.windows, self.per_window, self.index = progress, windows, max(1, steps), 0

    def step(self, done: int, total: int) -> None:
        self.per_window = max(1, total)
        if self.progress is not None:
            self.progress(self.index * self.per_window + done, self.windows * self.per_window)

    def finish_window(self) -> None:
        self.step(self.per_window, self.per_window)
        self.index += 1


Previous = tuple[Window, torch.Tensor, torch.Tensor]  # a window, its latents, the tracks changed in it


def _window_request(win: Window, prev: Previous | None, roles: Sequence[str],
                    known: torch.Tensor, reimagine: torch.Tensor | None, known_mask: torch.Tensor | None,
                    prompt: str, settings: SamplerSettings, seed: int) -> tuple[GenerationRequest, torch.Tensor, torch.Tensor]:
    """The request for ``win``, the tracks the sampler moves in it, and the tracks whose latents are
    not simply the kept ones: a track changed in the previous window takes that window's frames in
    the overlap even where nothing of it moves here (a region's tail)."""
    k, length = known.shape[0], win.length
    mask = torch.ones(k, length, dtype=torch.bool) if known_mask is None else known_mask[:, win.start:win.end].clone()
    strengths = torch.zeros(k) if reimagine is None else reimagine.float()
    generated = torch.tensor([r == "generate" for r in roles])
    changed = generated | (strengths > 0) | ~mask.all(dim=-1)
    win_roles = list(roles)
    if prev is not None and win.known > 0:
        before, latents, moved = prev
        shift = win.start - before.start
        changed |= moved
        for i in torch.nonzero(changed).flatten().tolist():
            if generated[i]:
                win_roles[i] = "keep"  # a region edit: regenerate everything but the overlap
                mask[i] = False
            known[i, :, :win.known] = latents[i, :, shift:shift + win.known]
            mask[i, :win.known] = True
    moves = generated | (strengths > 0) | ~mask.all(dim=-1)
    has_mask = not bool(mask.all())
    request = GenerationRequest(
        prompts=[prompt], roles=win_roles, settings=settings, seed=window_seed(seed, win.index), known=known[None],
        reimagine=strengths[None] if bool((strengths > 0).any()) else None,
        known_mask=mask[None] if has_mask else None, length=length)
    return request, moves, changed


def sample_windows(run: WindowSampler, windows: Sequence[Window], prompt: str, roles: Sequence[str],
                   settings: SamplerSettings, seed: int, kept: KeptLatents, on_window: OnWindow,
                   reimagine: torch.Tensor | None = None, known_mask: torch.Tensor | None = None,
                   progress: Callable[[int, int], None] | None = None) -> None:
    """Sample ``windows`` in order; ``roles`` (k), ``reimagine`` ([k] strengths) and ``known_mask``
    ([k, L] bool over the whole piece, False = regenerate) mean what they mean in a
    ``GenerationRequest``. A window in which nothing moves costs no sampler call."""
    bar = WindowProgress(progress, len(windows), settings.steps)
    prev: Previous | None = None
    for win in windows:
        known = kept(win).clone()
        request, moves, changed = _window_request(win, prev, roles, known, reimagine, known_mask, prompt, settings, seed)
        latents = run(request, bar.step)[0] if bool(moves.any()) else known
        on_window(win, latents, changed)
        bar.finish_window()
        prev = (win, latents, changed)
