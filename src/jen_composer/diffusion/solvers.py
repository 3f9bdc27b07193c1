"""Solver objects: one update x_t -> x_{t_next} per track from the denoiser's x0 estimate.

Every update is per track with that track's own (t, t_next), so tracks at different levels (a
re-imagined track waiting at t_s while the others run from T) step correctly. A step from T (a = 0,
log-SNR -inf) is exact for any solver: x_next = a_n x0 + s_n x_T (deterministic). Multistep solvers
keep a per-track history that a track loses whenever it does not move, so a track that joins late
starts first order. Coefficients are float64 (log-SNR differences cancel badly in float32).
"""

from __future__ import annotations

import abc
from typing import ClassVar, Protocol

import torch

from jen_composer.diffusion.schedule import NoiseSchedule


class NoiseSource(Protocol):
    """Standard normal noise shaped like ``like`` (a generator in use; a basis in exact tests)."""

    def __call__(self, like: torch.Tensor) -> torch.Tensor: ...


class GeneratorNoise:
    """``NoiseSource`` drawing from one seeded generator."""

    def __init__(self, generator: torch.Generator) -> None:
        self.generator = generator

    def __call__(self, like: torch.Tensor) -> torch.Tensor:
        return torch.randn(like.shape, generator=self.generator, device=like.device, dtype=like.dtype)


class Solver(abc.ABC):
    """``step(x, x0, t, t_next, moving)``: x at t_next for every track (callers keep non-moving ones)."""

    name: ClassVar[str]
    every_level: ClassVar[bool] = False  # True: visits all T-1 levels, ignoring steps and the time grid

    def __init__(self, schedule: NoiseSchedule, eta: float, noise: NoiseSource) -> None:
        self.schedule, self.eta, self.noise = schedule, float(eta), noise

    @abc.abstractmethod
    def step(self, x: torch.Tensor, x0: torch.Tensor, t: torch.Tensor, t_next: torch.Tensor,
             moving: torch.Tensor) -> torch.Tensor: ...

    def state(self) -> dict[str, object]:
        """What ``step`` remembers (multistep history), to redo a step after ``restore``."""
        return dict(vars(self))

    def restore(self, state: dict[str, object]) -> None:
        vars(self).update(state)


class DDIM(Solver):
    """DDIM (Song et al. 2021): eta=0 deterministic, eta=1 the DDPM ancestral posterior step."""

    name = "ddim"

    def step(self, x: torch.Tensor, x0: torch.Tensor, t: torch.Tensor, t_next: torch.Tensor,
             moving: torch.Tensor) -> torch.Tensor:
        a, s = self.schedule.levels(t)
        a_n, s_n = self.schedule.levels(t_next)
        eps = self.schedule.eps_from_x0(x0, x, t)
        var = (s_n**2 / (s**2).clamp_min(1e-300)) * (1 - a**2 / (a_n**2).clamp_min(1e-300))
        sigma = self.eta * var.clamp_min(0).sqrt()
        out = a_n * x0 + (s_n**2 - sigma**2).clamp_min(0).sqrt() * eps
        if self.eta > 0:
            out = out + sigma * self.noise(x)
        return out.to(x.dtype)


class DDPM(DDIM):
    """Ancestral sampling on every level (Ho et al. 2020): the reference, T calls."""

    name = "ddpm"
    every_level = True

    def __init__(self, schedule: NoiseSchedule, eta: float, noise: NoiseSource) -> None:
        super().__init__(schedule, 1.0, noise)


def _phi(g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Exponential-integrator weights of a polynomial x0 estimate over one log-SNR step g:
    phi1 = 1 - e^-g, phi2 = (g - phi1) / g, phi3 = (g^2/2 - g + phi1) / g^2 (series for small g)."""
    phi1 = -torch.expm1(-g)
    gs = g.clamp_min(1e-12)
    small = g < 1e-2
    phi2 = torch.where(small, g / 2 - g**2 / 6, (g - phi1) / gs)
    phi3 = torch.where(small, g / 6 - g**2 / 24, (g**2 / 2 - g + phi1) / gs**2)
    return phi1, phi2, phi3


class DPMSolverPP(Solver):
    """DPM-Solver++ multistep in data prediction (Lu et al. 2022), order 2 or 3.

    The x0 estimate is extrapolated as a polynomial in log-SNR through the last ``order`` estimates
    and integrated exactly against the exponential kernel. eta > 0 gives the SDE variant (fresh
    noise each step; eta=1 is DPM-Solver++ SDE). The step to t=0 returns the x0 estimate.
    """

    order: ClassVar[int]

    def __init__(self, schedule: NoiseSchedule, eta: float, noise: NoiseSource) -> None:
        super().__init__(schedule, eta, noise)
        self.history: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []  # (x0, lambda, valid)
        self.moving: torch.Tensor | None = None
        self.last: tuple[torch.Tensor, ...] = ()

    def _forget_on_join(self, moving: torch.Tensor) -> None:
        """When a sample's set of moving tracks changes (a re-imagined track joins), its x0
        estimates bend there: extrapolating through the bend is worse than restarting low order."""
        if self.moving is not None:
            changed = (moving != self.moving).any(dim=1)[:, None, None, None]
            self.history = [(m, lam, ok & ~changed) for m, lam, ok in self.history]
        self.moving = moving

    def _derivatives(self, x0: torch.Tensor, lam: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """d/dlambda and d2/dlambda2 of the x0 estimate at the current point (0 where history is missing)."""
        d1 = torch.zeros_like(x0, dtype=torch.float64)
        d2 = torch.zeros_like(d1)
        if self.order < 2 or not self.history:
            return d1, d2
        x1, lam1, ok1 = self.history[-1]
        h1 = (lam - lam1).clamp_min(1e-12)
        slope1 = (x0 - x1) / h1
        d1 = torch.where(ok1, slope1, d1)
        if self.order < 3 or len(self.history) < 2:
            return d1, d2
        x2, lam2, ok2 = self.history[-2]
        h2 = (lam1 - lam2).clamp_min(1e-12)
        curv = 2 * (slope1 - (x1 - x2) / h2) / (h1 + h2)  # the parabola through the three points
        both = ok1 & ok2
        return torch.where(both, slope1 + curv * h1 / 2, d1), torch.where(both, curv, d2)

    def step(self, x: torch.Tensor, x0: torch.Tensor, t: torch.Tensor, t_next: torch.Tensor,
             moving: torch.Tensor) -> torch.Tensor:
        a, s = self.schedule.levels(t)
        a_n, s_n = self.schedule.levels(t_next)
        lam, lam_n = self.schedule.log_snr(t)[..., None, None], self.schedule.log_snr(t_next)[..., None, None]
        final, start = s_n == 0, a == 0
        h = torch.where(final | start | ~moving[..., None, None], torch.ones_like(lam), lam_n - lam)
        g = (1 + self.eta) * h
        phi1, phi2, phi3 = _phi(g)
        self._forget_on_join(moving)
        d1, d2 = self._derivatives(x0.double(), lam)
        carry = (s_n / s) * torch.exp(-self.eta * h)
        out = carry * x + a_n * (phi1 * x0 + h * phi2 * d1 + h**2 * phi3 * d2)
        fresh, noise_term = x, torch.zeros_like(out)
        if self.eta > 0:
            fresh = self.noise(x)
            noise_term = s_n * (-torch.expm1(-2 * self.eta * h)).sqrt() * fresh
            out = out + noise_term
        out = torch.where(start, a_n * x0 + s_n * fresh, out)  # from log-SNR -inf: the exact limit
        ok = moving[..., None, None] & ~final & ~start
        self.history = (self.history + [(x0.double(), lam, ok)])[-2:]
        # the step just taken, for a corrector: its start, weights, noise, and the exact start step
        self.last = (x.double(), carry, noise_term, a_n, h, g, ok, start, s_n * fresh)
        return torch.where(final, x0.double(), out).to(x.dtype)


class UniPC(DPMSolverPP):
    """Predictor-corrector in the spirit of UniPC (Zhao et al. 2023), at no extra denoiser call.

    Predictor: DPM-Solver++(3M). Corrector: once the x0 estimate at the predicted point is known,
    the step just taken is redone with the polynomial that interpolates that new estimate and the
    two before it (instead of extrapolating), integrated with the exact phi weights (UniPC uses
    B(h) approximations of them; the same noise is reused when eta > 0). The first step, from T
    (log-SNR -inf), is redone with an estimate linear in alpha. The new estimate is not
    recomputed at the corrected point. The last step, to t=0, follows the noise estimate's decay
    near the data instead of stopping at the x0 estimate (see ``step``).
    """

    name, order = "unipc", 3

    def _corrected(self, x: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
        x_prev, carry, noise_term, a_n, h, g, ok, start, start_term = self.last
        m1, lam1, _ = self.history[-1]  # the estimate at the start of the step just taken
        fwd = (x0.double() - m1) / h
        d1, d2 = fwd, torch.zeros_like(fwd)
        if len(self.history) >= 2:
            m2, lam2, ok2 = self.history[-2]
            curv = 2 * (fwd - (m1 - m2) / (lam1 - lam2).clamp_min(1e-12)) / (h + lam1 - lam2)
            d1, d2 = torch.where(ok2, fwd - curv * h / 2, fwd), torch.where(ok2, curv, d2)
        phi1, phi2, phi3 = _phi(g)
        redone = carry * x_prev + a_n * (phi1 * m1 + h * phi2 * d1 + h**2 * phi3 * d2) + noise_term
        # the step from T: at low SNR the x0 estimate moves linearly in alpha ~ e^lambda, so take
        # D(u) = m1 + (x0 - m1) e^(u - lambda_n) and integrate it against the kernel from -inf
        w = (1 + self.eta) / (2 + self.eta)
        from_start = start_term + a_n * (m1 + w * (x0.double() - m1))
        redone = torch.where(start & self.moving[..., None, None], from_start, redone)
        return torch.where(ok | (start & self.moving[..., None, None]), redone, x.double()).to(x.dtype)

    def step(self, x: torch.Tensor, x0: torch.Tensor, t: torch.Tensor, t_next: torch.Tensor,
             moving: torch.Tensor) -> torch.Tensor:
        raw = x
        if self.history:
            x = self._corrected(x, x0)
        out = super().step(x, x0, t, t_next, moving)
        a = self.schedule.levels(t)[0]
        last = (self.schedule.levels(t_next)[1] == 0) & (a > 0) & (self.eta == 0)
        # the step to t=0: near the data the noise estimate eps = (x - a x0) / s shrinks like
        # sigma/alpha = e^-lambda (the score of a smooth density stays bounded), so the rest of the
        # ODE removes half the noise the plain x0 estimate removes: x_0 = x/a - e^-lambda eps / 2
        # = (x/a + x0) / 2, from the pair the denoiser saw. Variance error <= e^-2lambda / 4 for
        # Gaussian data of any variance, against up to e^-2lambda for x0 alone. (ODE only: with
        # eta > 0 the last step stays the x0 estimate.)
        tail = 0.5 * (raw.double() / a.clamp_min(1e-12) + x0.double())
        return torch.where(last & self.moving[..., None, None], tail, out.double()).to(x.dtype)


class DPMSolverPP2M(DPMSolverPP):
    name, order = "dpmpp2m", 2


class DPMSolverPP3M(DPMSolverPP):
    name, order = "dpmpp3m", 3
