"""Converters from public multi-track datasets (and any MIDI) into the canonical song layout."""

from jen_composer.data.convert.prepare import FORMATS, prepare_dataset

__all__ = ["FORMATS", "prepare_dataset"]
