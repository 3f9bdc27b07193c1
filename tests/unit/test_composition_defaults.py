"""`compose` and `studio` take the `composition` group and sampler settings from the config, not from code."""

from __future__ import annotations

import pytest

from jen_composer.composition.defaults import session_defaults
from jen_composer.core.config import compose
from jen_composer.core.errors import ConfigError
from jen_composer.diffusion.settings import SamplerSettings


def test_checkpoint_config_then_overrides() -> None:
    trained = compose(None, ["composition.seconds=2.5", "composer.sampler.steps=7", "composition.studio.port=9000"])
    d = session_defaults(trained, ["composition.seed=3", "composer.sampler.name=ddpm"])
    assert (d.composition.seconds, d.composition.seed, d.composition.studio.port) == (2.5, 3, 9000)
    assert d.sampler == SamplerSettings(name="ddpm", steps=7)
    assert session_defaults(None).sampler == SamplerSettings()  # no checkpoint config: the schema's


def test_only_composition_and_sampler_overrides() -> None:
    with pytest.raises(ConfigError, match="only composition.\\* and composer.sampler.\\* .*trainer, composer.unet"):
        session_defaults(None, ["trainer.max_steps=3", "composer.unet.base_channels=8"])
    with pytest.raises(ConfigError, match="unknown key 'composition.secnds'"):
        session_defaults(None, ["composition.secnds=3"])
    with pytest.raises(ConfigError, match="sampler setting steps"):
        session_defaults(None, ["composer.sampler.steps=0"])


def test_settings_aliases_and_casts() -> None:
    s = SamplerSettings().replace({"cfg": "2.5", "steps": "9", "sampler": "dpmpp2m", "stem": None})
    assert (s.text_guidance, s.steps, s.name, s.stem_guidance) == (2.5, 9, "dpmpp2m", SamplerSettings().stem_guidance)
    assert SamplerSettings.from_dict(s.to_dict()) == s and hash(s) == hash(SamplerSettings.from_dict(s.to_dict()))
    with pytest.raises(ConfigError, match="unknown sampler setting 'colour'"):
        s.replace(colour=1)
    with pytest.raises(ConfigError, match="text_guidance: must lie in"):
        s.replace(cfg=99)


def test_settings_have_exactly_the_config_fields() -> None:
    """A field added to SamplerConfig reaches SamplerSettings (and so the CLI, REPL, studio, engine) by itself."""
    import dataclasses

    from jen_composer.core.config.composer import SamplerConfig

    config = {f.name: f.default for f in dataclasses.fields(SamplerConfig)}
    assert {f.name: f.default for f in dataclasses.fields(SamplerSettings)} == config
    values = dataclasses.asdict(SamplerConfig())  # list fields (logsnr_points) come back as tuples: hashable settings
    settings = SamplerSettings.from_config(SamplerConfig()).to_dict()
    assert {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()} == values
