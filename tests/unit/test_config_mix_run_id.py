"""Optional composer options (the mix track, frame timesteps) and the curriculum keys read only with
them join the run id only when the option is on, so every run trained before an option keeps its
folder (``trainer.resume=last`` still finds it)."""

from __future__ import annotations

import hashlib
import json

from jen_composer.core.config import compose
from jen_composer.core.config.loader import to_container
from jen_composer.core.config.root import LOGGING_ONLY_KEYS
from jen_composer.core.config.runinfo import run_id


def _id_before_the_option(cfg) -> str:  # noqa: ANN001
    """The run id as computed from a config that has no mix-track or frame-timestep keys at all."""
    data = {k: v for k, v in to_container(cfg).items() if k not in LOGGING_ONLY_KEYS}
    data["trainer"].pop("resume")
    data["composer"].pop("mix_track")
    data["composer"].pop("frame_timesteps")
    for key in ("separation", "extraction", "arrangement", "frame_mask_share"):
        data["curriculum"].pop(key)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:10]


def test_mix_options_change_the_run_id_only_with_the_mix_track() -> None:
    base = compose(None, [])
    assert run_id(base) == _id_before_the_option(base)
    assert run_id(compose(None, ["curriculum.separation=0.4"])) == run_id(base)  # read only with the mix track
    with_mix = compose(None, ["composer.mix_track=true"])
    assert run_id(with_mix) != run_id(base)
    assert run_id(compose(None, ["composer.mix_track=true", "curriculum.separation=0.4"])) != run_id(with_mix)


def test_frame_options_change_the_run_id_only_with_frame_timesteps() -> None:
    base = compose(None, [])
    assert run_id(compose(None, ["curriculum.frame_mask_share=0.7"])) == run_id(base)
    frames = compose(None, ["composer.frame_timesteps=true"])
    assert run_id(frames) != run_id(base)
    assert run_id(compose(None, ["composer.frame_timesteps=true", "curriculum.frame_mask_share=0.7"])) != run_id(frames)
    both = compose(None, ["composer.frame_timesteps=true", "composer.mix_track=true"])
    assert len({run_id(both), run_id(frames), run_id(compose(None, ["composer.mix_track=true"]))}) == 3
