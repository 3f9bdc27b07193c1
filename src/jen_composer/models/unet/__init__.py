"""The multi-track 1D UNet backbone (section 4.1)."""

from jen_composer.models.unet.network import UNet1D, count_parameters
from jen_composer.models.unet.timestep import TIMESTEP_MODES, TimestepEmbedding, sinusoidal_embedding

__all__ = ["TIMESTEP_MODES", "TimestepEmbedding", "UNet1D", "count_parameters", "sinusoidal_embedding"]
