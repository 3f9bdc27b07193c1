"""Training tasks as timestep vectors: every timestep sampler, their closed-form task shares, task tokens.

A timestep vector ``t [B, k]`` says what each track is: 0 = kept (a clean condition), 0 < t < T =
generated, T = absent (pure noise, no information). Generated tracks of one sample share one level
t ~ U{1..T-1} (they are denoised jointly). Three samplers, all here:

- `paper_timesteps` (section 5.1): one track drawn uniformly is generated; each other track is kept,
  generated with it, or absent, uniformly. Every count pattern (g generated, c kept, a absent) then
  has the closed-form share `paper_type_probabilities`, e.g. "all k jointly" = 1/3^(k-1).
- `role_timesteps` (section 4.3's stage s = s generated, k - s kept; validation's fixed tasks).
- `TaskMixture`: the training distribution at one step, a blend of the two (`curriculum.paper_mix`),
  plus, with condition-only tracks (the mix), the tasks that start from them: separation (all k
  generated), extraction (one generated, the rest absent), arrangement (c ~ U{1..k-1} kept, the
  rest generated); in every other sample the condition-only tracks are absent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch

from jen_composer.core.errors import ConfigError


class TaskType(NamedTuple):
    """How many of the k tracks a sample generates, keeps and leaves absent."""

    generated: int
    kept: int
    absent: int

    @property
    def name(self) -> str:
        return f"gen{self.generated}_keep{self.kept}_absent{self.absent}"


def task_types(k: int) -> list[TaskType]:
    """Every task with at least one generated track, most generated first."""
    return [TaskType(g, c, k - g - c) for g in range(k, 0, -1) for c in range(k - g, -1, -1)]


def generated_mask(t: torch.Tensor, T: int) -> torch.Tensor:
    """``[B, k]`` bool: the tracks being generated (0 < t_i < T), i.e. the ones the loss covers."""
    return (t > 0) & (t < T)


def role_counts(t: torch.Tensor, T: int) -> torch.Tensor:
    """``[B, 3]`` long: (generated, kept, absent) tracks per sample."""
    gen = generated_mask(t, T)
    return torch.stack([gen.sum(1), (t == 0).sum(1), (t >= T).sum(1)], dim=1)


def _level(batch: int, T: int, generator: torch.Generator) -> torch.Tensor:
    """One shared generation level per sample, ``[B, 1]`` ~ U{1..T-1}."""
    return torch.randint(1, T, (batch, 1), generator=generator, device=generator.device)


def paper_timesteps(batch: int, k: int, T: int, generator: torch.Generator) -> torch.Tensor:
    """Section 5.1 literally: track i ~ U{1..k} gets t_i ~ U{1..T-1}; each other track U{0, t_i, T}."""
    device = generator.device
    chosen = torch.randint(0, k, (batch,), generator=generator, device=device)
    level = _level(batch, T, generator)
    choice = torch.randint(0, 3, (batch, k), generator=generator, device=device)  # 0 kept, 1 with t_i, 2 absent
    choice[torch.arange(batch, device=device), chosen] = 1
    t = torch.where(choice == 1, level.expand(batch, k), torch.full_like(choice, T))
    return torch.where(choice == 0, torch.zeros_like(t), t)


def role_timesteps(generate: torch.Tensor | int, keep: torch.Tensor | int, batch: int, k: int, T: int,
                   generator: torch.Generator) -> torch.Tensor:
    """``generate`` tracks (chosen uniformly) share t ~ U{1..T-1}, ``keep`` others are 0, the rest T.

    ``generate`` / ``keep`` are one count for all samples or ``[B]`` per sample.
    """
    device = generator.device
    n_gen = torch.as_tensor(generate, dtype=torch.long, device=device).expand(batch)
    n_keep = torch.as_tensor(keep, dtype=torch.long, device=device).expand(batch)
    if bool(((n_gen < 1) | (n_gen > k) | (n_keep < 0) | (n_gen + n_keep > k)).any()):
        raise ConfigError(f"tasks: cannot generate {n_gen.tolist()} and keep {n_keep.tolist()} of {k} tracks")
    ranks = torch.rand(batch, k, generator=generator, device=device).argsort(dim=1).argsort(dim=1)
    level = _level(batch, T, generator).expand(batch, k)
    t = torch.where(ranks < (n_gen + n_keep)[:, None], torch.zeros_like(level), torch.full_like(level, T))
    return torch.where(ranks < n_gen[:, None], level, t)


def paper_type_probabilities(k: int) -> dict[TaskType, float]:
    """Closed form of `paper_timesteps`: each arrangement with g generated has probability g / (k 3^(k-1))."""
    return {tt: math.factorial(k) // (math.factorial(tt.generated) * math.factorial(tt.kept) * math.factorial(tt.absent))
            * tt.generated / (k * 3 ** (k - 1)) for tt in task_types(k)}


CONDITION_TASKS = ("separation", "extraction", "arrangement")


@dataclass(frozen=True)
class TaskMixture:
    """The task distribution at one training step, and its sampler.

    With probability ``paper_mix`` a sample follows section 5.1 (`paper_timesteps`); otherwise a
    curriculum stage s ~ ``stage_probs`` (stages 1..k) generates s tracks and keeps the other k - s
    (section 4.3; stage k = free generation of all tracks = "joint only"). ``condition_only`` extra
    tracks (the mix) are appended after the k tracks and never generated: with probability
    ``separation`` / ``extraction`` / ``arrangement`` a sample is that task and they are kept (t=0);
    otherwise it is drawn as above and they are absent (t=T). Draws use ``generator`` only, a fixed
    number of them per call, so the same seed gives the same tasks whatever the probabilities (and,
    without condition-only tracks, the same tasks as before they existed).
    """

    stage_probs: tuple[float, ...]
    paper_mix: float = 0.0
    condition_only: int = 0
    separation: float = 0.0
    extraction: float = 0.0
    arrangement: float = 0.0

    def __post_init__(self) -> None:
        probs = self.stage_probs
        if not probs or min(probs) < 0 or abs(sum(probs) - 1.0) > 1e-6:
            raise ConfigError(f"curriculum: stage probabilities {list(probs)} are not a distribution over 1..k")
        if not 0.0 <= self.paper_mix <= 1.0:
            raise ConfigError(f"curriculum.paper_mix: {self.paper_mix} is outside [0, 1]")
        if self.condition_only < 0:
            raise ConfigError(f"tasks: {self.condition_only} condition-only tracks")
        shares = (self.separation, self.extraction, self.arrangement)
        if min(shares) < 0 or sum(shares) > 1.0 + 1e-9:
            raise ConfigError(f"curriculum.separation/extraction/arrangement: {list(shares)} must be >= 0 and sum to <= 1")
        if self.condition_only and self.arrangement > 0 and self.k < 2:
            raise ConfigError("curriculum.arrangement: arrangement keeps some tracks and generates others; it needs >= 2 tracks")

    @property
    def k(self) -> int:
        return len(self.stage_probs)

    @property
    def condition_share(self) -> float:
        """Share of samples whose condition-only tracks are given (0 without such tracks)."""
        return self.separation + self.extraction + self.arrangement if self.condition_only else 0.0

    def sample(self, batch: int, T: int, generator: torch.Generator) -> torch.Tensor:
        """``t [B, k + condition_only]`` long."""
        device = generator.device
        probs = torch.tensor(self.stage_probs, dtype=torch.float64, device=device)
        stages = torch.multinomial(probs, batch, replacement=True, generator=generator) + 1
        curriculum = role_timesteps(stages, self.k - stages, batch, self.k, T, generator)
        paper = paper_timesteps(batch, self.k, T, generator)
        use_paper = torch.rand(batch, 1, generator=generator, device=device) < self.paper_mix
        t = torch.where(use_paper, paper, curriculum)
        if self.condition_only:
            given, from_conditions = self._condition_tasks(batch, T, generator)
            t = torch.where(given[:, None], from_conditions, t)
            extra = torch.where(given[:, None], 0, T).expand(batch, self.condition_only)
            t = torch.cat([t, extra.to(t.dtype)], dim=1)
        return t

    def _condition_tasks(self, batch: int, T: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``(given [B] bool, t [B, k])``: which samples start from the conditions, and their stem tasks."""
        device, k = generator.device, self.k
        u = torch.rand(batch, generator=generator, device=device)
        sep = u < self.separation
        ext = ~sep & (u < self.separation + self.extraction)
        given = u < self.condition_share
        arr = given & ~sep & ~ext
        kept = torch.randint(1, max(k, 2), (batch,), generator=generator, device=device).clamp(max=max(k - 1, 0))
        n_keep = torch.where(arr, kept, torch.zeros_like(kept))
        n_gen = torch.where(ext, torch.ones_like(kept), k - n_keep)
        return given, role_timesteps(n_gen, n_keep, batch, k, T, generator)

    def condition_task_probabilities(self) -> dict[str, float]:
        """Closed-form share of each task that starts from the condition-only tracks."""
        on = 1.0 if self.condition_only else 0.0
        return dict(zip(CONDITION_TASKS, (on * self.separation, on * self.extraction, on * self.arrangement), strict=True))

    def joint_type_probabilities(self) -> dict[tuple[TaskType, bool], float]:
        """Closed-form share of every (task type among the k tracks, condition-only tracks given)."""
        k, free = self.k, 1.0 - self.condition_share
        out = {(tt, False): free * p for tt, p in self._unconditioned_types().items()}
        out.update({(tt, True): 0.0 for tt in task_types(k)})
        named = self.condition_task_probabilities()
        out[(TaskType(k, 0, 0), True)] += named["separation"]
        out[(TaskType(1, 0, k - 1), True)] += named["extraction"]
        for kept in range(1, k):
            out[(TaskType(k - kept, kept, 0), True)] += named["arrangement"] / (k - 1)
        return out

    def _unconditioned_types(self) -> dict[TaskType, float]:
        paper = paper_type_probabilities(self.k)
        stage = {TaskType(s, self.k - s, 0): p for s, p in enumerate(self.stage_probs, start=1)}
        return {tt: self.paper_mix * paper[tt] + (1.0 - self.paper_mix) * stage.get(tt, 0.0) for tt in task_types(self.k)}

    def type_probabilities(self) -> dict[TaskType, float]:
        """Closed-form share of every task type among the k tracks (whether or not the conditions are given)."""
        joint = self.joint_type_probabilities()
        return {tt: joint[(tt, False)] + joint[(tt, True)] for tt in task_types(self.k)}


def realised_shares(t: torch.Tensor, T: int, k: int) -> dict[str, torch.Tensor]:
    """What a batch really trained on: mean counts per role and task-type shares of the first k
    tracks, and, with condition-only tracks after them, how often they were given and each task that
    starts from them (`CONDITION_TASKS`)."""
    counts = role_counts(t[:, :k], T).float()
    out = {f"tasks/{role}": counts[:, i].mean() for i, role in enumerate(("generated", "kept", "absent"))}
    for tt in task_types(k):
        hit = (counts == torch.tensor(tt, dtype=counts.dtype, device=counts.device)).all(1)
        out[f"tasks/share_{tt.name}"] = hit.float().mean()
    if t.shape[1] > k:
        given = (t[:, k:] == 0).all(1)
        gen, kept, absent = counts.unbind(1)
        out["tasks/conditions_given"] = given.float().mean()
        out["tasks/share_separation"] = (given & (gen == k)).float().mean()
        out["tasks/share_extraction"] = (given & (gen == 1) & (absent == k - 1) & (k > 1)).float().mean()
        out["tasks/share_arrangement"] = (given & (kept >= 1) & (absent == 0)).float().mean()
    return out


def validation_tasks(k: int, condition_only: int = 0) -> list[tuple[str, int, int, bool]]:
    """(name, tracks generated, tracks kept, condition-only tracks given): marginal, conditional by
    number kept, joint; with condition-only tracks (the mix) also separation and extraction."""
    tasks = [("marginal", 1, 0, False)] if k > 1 else []
    tasks += [(f"conditional_keep{kept}", k - kept, kept, False) for kept in range(1, k)]
    tasks.append(("joint", k, 0, False))
    if condition_only:
        tasks += [("separation", k, 0, True), ("extraction", 1, 0, True)]
    return tasks


def task_prefix(tracks: Sequence[str], generated: Sequence[bool]) -> str:
    """``"[bass & drums generation]"``: the generated tracks in canonical (config) order."""
    names = [name for name, g in zip(tracks, generated, strict=True) if g]
    return f"[{' & '.join(names)} generation]" if names else ""


def join_task_prompt(prefix: str, prompt: str, enabled: bool = True) -> str:
    """The prompt the text encoder sees: ``"<prefix> <prompt>"`` (just the prompt when disabled)."""
    if not enabled or not prefix:
        return prompt
    return f"{prefix} {prompt}".strip()


def task_prompts(prompts: Sequence[str], generated: torch.Tensor, tracks: Sequence[str],
                 enabled: bool = True) -> list[str]:
    """Prefix each prompt with its row's task tokens (``generated [B, k]`` bool)."""
    if generated.shape != (len(prompts), len(tracks)):
        raise ValueError(f"generated mask {tuple(generated.shape)} does not match {len(prompts)} prompts x {len(tracks)} tracks")
    rows = generated.bool().tolist()
    return [join_task_prompt(task_prefix(tracks, row), p, enabled) for p, row in zip(prompts, rows)]
