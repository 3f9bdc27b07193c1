"""The rendered benchmark: procedurally composed four-track songs rendered with FluidSynth."""

from jen_composer.data.synth.build import synth_dataset

__all__ = ["synth_dataset"]
