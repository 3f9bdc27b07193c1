"""Seeding: two seeded CPU computations are bit-identical; different seeds differ."""

from __future__ import annotations

import numpy as np
import torch

from jen_composer.core.seed import seed_everything


def _computation() -> tuple[torch.Tensor, np.ndarray]:
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.Linear(16, 1))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-2)
    x = torch.randn(32, 8)
    for _ in range(5):
        loss = (net(x) - torch.randn(32, 1)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in net.parameters()]), np.random.rand(4)


def test_same_seed_bit_identical() -> None:
    seed_everything(123)
    a, na = _computation()
    seed_everything(123)
    b, nb = _computation()
    assert torch.equal(a, b) and np.array_equal(na, nb)
    seed_everything(124)
    c, _ = _computation()
    assert not torch.equal(a, c)
