"""Composition config group: co-composition sessions, audio import and the browser studio.

Sampler defaults (steps, sampler, guidance) are NOT repeated here: sessions read them from
``config.composer.SamplerConfig`` so that they live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jen_composer.core.config.longform import LongformConfig


@dataclass
class ImportConfig:
    """How a user's audio file becomes a kept track."""

    min_seconds: float = 0.5  # shorter files are refused (nothing musical to condition on)
    silence_db: float = -60.0  # files whose RMS is below this are refused as silent
    target_db: float = -20.0  # RMS level when there is no other track to match loudness to
    peak_limit: float = 0.99  # after loudness matching the peak is scaled down to at most this


@dataclass
class StudioConfig:
    """The browser studio (`jen-composer studio`)."""

    host: str = "127.0.0.1"  # loopback only unless the user asks otherwise
    allowed_hosts: list[str] = field(default_factory=list)  # Host names accepted besides loopback and `host`
    port: int = 7860
    max_upload_mb: float = 20.0  # uploads above this are refused with HTTP 413
    peaks: int = 400  # waveform resolution (min/max pairs) sent to the page


@dataclass
class CompositionConfig:
    seconds: float = 4.096  # length of every take
    max_seconds: float = 600.0  # longer requests (sessions, the Python API, evaluate) are refused
    sessions_root: str = "sessions"  # new sessions go to <sessions_root>/<id> unless a folder is given
    seed: int = 0  # base seed; round r uses a seed derived from it unless one is given
    crossfade_ms: float = 10.0  # region regeneration: fade length at each edge, inside the region
    imports: ImportConfig = field(default_factory=ImportConfig)
    studio: StudioConfig = field(default_factory=StudioConfig)
    longform: LongformConfig = field(default_factory=LongformConfig)
