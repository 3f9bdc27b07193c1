"""Jointly Gaussian "tracks": the exact denoiser for any timestep vector, and the exact answers.

x0 = concat of k tracks of m = d*L numbers ~ N(mu, Sigma). Given noisy tracks
y_i = a_i x0_i + s_i e_i (a = sqrt(alpha_bar_{t_i}), s = sqrt(1 - alpha_bar_{t_i})), the optimal
denoiser is the posterior mean E[x0 | y] = mu + Sigma A (A Sigma A + S^2)^-1 (y - A mu), linear in y.
t=0 tracks are observed exactly, t=T tracks (a=0) carry nothing. The marginal, conditional and joint
distributions the samplers must reproduce follow from Gaussian conditioning.
"""

from __future__ import annotations

import torch

from jen_composer.diffusion.schedule import NoiseSchedule


class GaussianTracks:
    def __init__(self, mean: torch.Tensor, cov: torch.Tensor, k: int, d: int, length: int) -> None:
        self.mean, self.cov = mean.double(), cov.double()
        self.k, self.d, self.length = k, d, length
        self.m = d * length
        if self.mean.shape != (k * self.m,) or self.cov.shape != (k * self.m, k * self.m):
            raise ValueError("mean/cov do not match k * d * L")

    def index(self, tracks: list[int]) -> torch.Tensor:
        return torch.cat([torch.arange(i * self.m, (i + 1) * self.m) for i in tracks])

    def draw(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` exact samples ``[n, k, d, L]``."""
        chol = torch.linalg.cholesky(self.cov)
        z = torch.randn(n, self.k * self.m, generator=generator, dtype=torch.float64)
        return (self.mean + z @ chol.T).view(n, self.k, self.d, self.length)

    def conditional(self, target: list[int], given: list[int], value: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and covariance of tracks ``target`` given tracks ``given`` = ``value [len(given)*m]``."""
        a = self.index(target)
        if not given:
            return self.mean[a], self.cov[a][:, a]
        b = self.index(given)
        gain = torch.linalg.solve(self.cov[b][:, b], self.cov[b][:, a]).T
        assert value is not None
        mean = self.mean[a] + gain @ (value.double() - self.mean[b])
        cov = self.cov[a][:, a] - gain @ self.cov[b][:, a]
        return mean, cov

    def branches(self, schedule: NoiseSchedule):  # noqa: ANN201 (a BranchDenoiser)
        """The exact posterior-mean denoiser as a ``BranchDenoiser`` (it ignores text). It takes a
        level per track ``[B, k]`` or per frame ``[B, k, L]`` (``frame_levels``)."""
        ab_all = schedule.alpha_bar.double()

        def denoise(x_t: torch.Tensor, t: torch.Tensor, rows: torch.Tensor, use_text: torch.Tensor) -> torch.Tensor:
            out = torch.empty_like(x_t, dtype=torch.float64)
            y = x_t.double().flatten(1)
            per_frame = t.dim() == 3
            t = t.long().flatten(1)
            keys, inverse = torch.unique(t, dim=0, return_inverse=True)  # one key per level vector
            first = torch.zeros(len(keys), dtype=torch.long, device=t.device).scatter_(
                0, inverse, torch.arange(len(t), device=t.device))
            for j, tv in enumerate(t[first].cpu()):
                levels = ab_all[tv]
                ab = (levels.view(self.k, 1, self.length).expand(self.k, self.d, self.length).flatten() if per_frame
                      else levels.repeat_interleave(self.m))
                a, s2 = ab.sqrt(), 1.0 - ab
                cov_y = a[:, None] * self.cov * a[None, :] + torch.diag(s2)
                gain = torch.linalg.solve(cov_y, a[:, None] * self.cov).T  # Sigma A (A Sigma A + S^2)^-1
                sel = (inverse == j).to(x_t.device)
                out[sel] = (self.mean + (y[sel] - a * self.mean) @ gain.T).view(-1, self.k, self.d, self.length)
            return out.to(x_t.dtype)

        denoise.frame_levels = True  # type: ignore[attr-defined]
        return denoise


def correlated_tracks(k: int, d: int, length: int, rho: float, generator: torch.Generator) -> GaussianTracks:
    """A test distribution: per element, the k tracks correlate with ``rho``; elements within a
    track correlate smoothly along time; non-zero per-track means."""
    m = d * length
    cross = torch.full((k, k), rho, dtype=torch.float64)
    cross.fill_diagonal_(1.0)
    pos = torch.arange(length, dtype=torch.float64)
    within_t = torch.exp(-((pos[:, None] - pos[None, :]) ** 2) / 4.0)
    within = torch.kron(torch.eye(d, dtype=torch.float64), within_t) + 0.05 * torch.eye(m, dtype=torch.float64)
    scales = 0.5 + torch.rand(k, generator=generator, dtype=torch.float64)
    cov = torch.kron(cross, within) * torch.kron(torch.outer(scales, scales), torch.ones(m, m, dtype=torch.float64))
    mean = torch.randn(k * m, generator=generator, dtype=torch.float64) * 0.5
    return GaussianTracks(mean, cov, k, d, length)
