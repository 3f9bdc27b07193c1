"""Typed configs (OmegaConf structured dataclasses) and how they are composed and recorded."""

from jen_composer.core.config.loader import compose, from_container, load_resolved, to_container, to_yaml
from jen_composer.core.config.root import RunConfig
from jen_composer.core.config.runinfo import run_dir, run_id, write_run_files

__all__ = [
    "RunConfig", "compose", "from_container", "load_resolved", "to_container", "to_yaml",
    "run_dir", "run_id", "write_run_files",
]
