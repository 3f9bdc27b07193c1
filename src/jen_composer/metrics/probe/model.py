"""The probe network and its file: an MLP with one shared embedding and a head per label.

``Probe.load(path)`` verifies the file against ``<path>.sha256`` (written by ``save``) before
reading it, and refuses probes built on other features. API used by the scorer:

- ``accuracy(wave, sr, labels, track) -> float``: share of the defined heads (genre, key, tempo,
  family) the probe gets right for one clip (NaN when no head is defined);
- ``embed(batch [B, S], sr) -> [B, hidden]``: the shared embedding (an ``fad.EmbedFn``);
- ``predict(wave, sr) -> {head: class}``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from jen_composer.core.errors import CheckpointError, one_line
from jen_composer.core.io import atomic_write_bytes, atomic_write_text
from jen_composer.metrics.probe.features import FEATURE_VERSION, HEADS, clip_features, targets


class ProbeNet(nn.Module):
    """Standardised features -> shared embedding -> one linear head per label."""

    def __init__(self, features: int, hidden: int, classes: Mapping[str, Sequence[str]]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("std", torch.ones(features))
        self.body = nn.Sequential(nn.Linear(features, hidden), nn.GELU(), nn.Dropout(0.2),
                                  nn.Linear(hidden, hidden), nn.GELU())
        self.heads = nn.ModuleDict({h: nn.Linear(hidden, len(classes[h])) for h in HEADS})

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.body((x - self.mean) / self.std)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        z = self.embed(x)
        return {h: head(z) for h, head in self.heads.items()}


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Probe:
    """A trained ``ProbeNet`` with its class names and settings (see the module docstring)."""

    def __init__(self, net: ProbeNet, classes: dict[str, list[str]], settings: dict[str, Any], sha256: str = "") -> None:
        self.net, self.classes, self.settings, self.sha256 = net.eval(), classes, settings, sha256

    @property
    def tempo_edges(self) -> list[float]:
        return list(self.settings["tempo_edges"])

    @torch.no_grad()
    def predict_features(self, feats: np.ndarray) -> dict[str, list[str]]:
        logits = self.net(torch.as_tensor(np.atleast_2d(feats), dtype=torch.float32))
        return {h: [self.classes[h][i] for i in v.argmax(dim=-1).tolist()] for h, v in logits.items()}

    def predict(self, wave: np.ndarray, sr: int) -> dict[str, str]:
        return {h: v[0] for h, v in self.predict_features(clip_features(wave, sr)).items()}

    def accuracy(self, wave: np.ndarray, sr: int, labels: Mapping[str, Any], track: str | None) -> float:
        """Share of the heads defined for ``track`` (None = the mix) that match the song's labels."""
        want = targets(labels, track, self.tempo_edges, self.settings.get("drums_track", "drums"))
        want = {h: v for h, v in want.items() if v is not None}
        if not want:
            return float("nan")
        got = self.predict(wave, sr)
        return float(np.mean([got[h] == v for h, v in want.items()]))

    @torch.no_grad()
    def embed(self, wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
        """``[B, S]`` (or ``[B, C, S]``) -> ``[B, hidden]``: the FAD embedding of this domain."""
        w = torch.as_tensor(wave).float()
        w = w.mean(dim=1) if w.dim() == 3 else w.reshape(-1, w.shape[-1])
        feats = np.stack([clip_features(x.numpy(), sample_rate) for x in w])
        return self.net.embed(torch.from_numpy(feats))

    def save(self, path: str | Path) -> str:
        """Write the probe and ``<path>.sha256``; returns the checksum."""
        path = Path(path)
        buf = io.BytesIO()
        torch.save({"state_dict": self.net.state_dict(), "classes": self.classes, "settings": self.settings,
                    "feature_version": FEATURE_VERSION}, buf)
        data = buf.getvalue()
        atomic_write_bytes(path, data)
        self.sha256 = hashlib.sha256(data).hexdigest()
        atomic_write_text(checksum_path(path), f"{self.sha256}  {path.name}\n")
        return self.sha256

    @classmethod
    def load(cls, path: str | Path) -> Probe:
        """Read a probe after checking its sha256 against the file beside it."""
        path = Path(path)
        sums = checksum_path(path)
        if not path.is_file():
            raise CheckpointError(f"evaluation.probe.path {path}: file not found (train one: jen-composer probe-train)")
        if not sums.is_file():
            raise CheckpointError(f"{path}: checksum file {sums.name} missing; refusing an unverified probe")
        expected = sums.read_text().split()[0] if sums.read_text().split() else ""
        actual = sha256_file(path)
        if actual != expected:
            raise CheckpointError(f"{path}: sha256 {actual[:12]}... does not match {sums.name} ({expected[:12]}...)")
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            if blob.get("feature_version") != FEATURE_VERSION:
                raise CheckpointError(f"{path}: built on probe features v{blob.get('feature_version')}, "
                                      f"this code computes v{FEATURE_VERSION}; retrain it")
            settings, classes = blob["settings"], blob["classes"]
            net = ProbeNet(int(settings["features"]), int(settings["hidden"]), classes)
            net.load_state_dict(blob["state_dict"])
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: not a probe file ({one_line(exc)})") from None
        return cls(net, classes, settings, actual)


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")
