"""Test doubles (never imported by the library): a deterministic engine and Gaussian "tracks"
with exact answers for the samplers."""

from tests.fakes.engine import FakeEngine
from tests.fakes.gaussian import GaussianTracks, correlated_tracks

__all__ = ["FakeEngine", "GaussianTracks", "correlated_tracks"]
