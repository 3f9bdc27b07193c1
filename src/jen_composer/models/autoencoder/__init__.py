"""The audio autoencoder: Jen-1-style waveform VAE, codec adapters, losses, export/load."""

from jen_composer.models.autoencoder.base import NormalisedAutoencoder
from jen_composer.models.autoencoder.codecs import DACAdapter, EncodecAdapter
from jen_composer.models.autoencoder.export import (
    build_autoencoder,
    export_autoencoder,
    export_from_checkpoint,
    load_autoencoder,
    model_from_checkpoint,
    rebuild_exported,
    reexport_autoencoder,
)
from jen_composer.models.autoencoder.model import WaveformVAE
from jen_composer.models.autoencoder.stats import compute_latent_stats

__all__ = [
    "DACAdapter", "EncodecAdapter", "NormalisedAutoencoder", "WaveformVAE",
    "build_autoencoder", "compute_latent_stats", "export_autoencoder", "export_from_checkpoint",
    "load_autoencoder", "model_from_checkpoint", "rebuild_exported", "reexport_autoencoder",
]
