"""The option lists of the config schema's choice fields, each once.

Schema fields typed with these enums make OmegaConf refuse any other value when a config is composed,
so `jen-composer config EXP curriculum.schedule=progresive` fails with one line naming the key and
the choices (see `loader.check_choices`). Member names equal their values (OmegaConf converts YAML
strings by name) and `StrEnum` members compare, hash and format as those strings, so code reading
``cfg.curriculum.schedule == "uniform"`` keeps working. Lower layers derive their option tuples from
these. Lists owned by an open registry stay validated strings: `composer.sampler.name` (the samplers
in `diffusion/samplers.py`) and the Lightning pass-through fields (`trainer.accelerator`,
`strategy`, `precision`).
"""

from __future__ import annotations

from enum import StrEnum


def choices(enum: type[StrEnum]) -> tuple[str, ...]:
    """The option names of ``enum`` in declaration order."""
    return tuple(member.value for member in enum)


class RunTask(StrEnum):
    autoencoder = "autoencoder"
    composer = "composer"


class DataSource(StrEnum):
    audio = "audio"
    latents = "latents"


class OnBadInput(StrEnum):
    error = "error"
    skip = "skip"


class AutoencoderKind(StrEnum):
    vae = "vae"
    encodec = "encodec"
    dac = "dac"


class AutoencoderArchitecture(StrEnum):
    waveform = "waveform"
    spectral = "spectral"


class SpectralPhase(StrEnum):
    griffin_lim = "griffin_lim"
    predicted = "predicted"


class Bottleneck(StrEnum):
    vae = "vae"
    plain = "plain"
    tanh = "tanh"


class TextEncoderKind(StrEnum):
    byt5_small = "byt5_small"
    flan_t5 = "flan_t5"


class NoiseScheduleKind(StrEnum):
    linear = "linear"
    cosine = "cosine"


class Prediction(StrEnum):
    eps = "eps"
    v = "v"


class TimestepMode(StrEnum):
    vector = "vector"
    shared = "shared"


class CurriculumSchedule(StrEnum):
    progressive = "progressive"
    uniform = "uniform"
    joint_only = "joint_only"


class LrScheduler(StrEnum):
    linear = "linear"
    constant = "constant"
    cosine = "cosine"


class LoggerKind(StrEnum):
    wandb = "wandb"
    csv = "csv"
    tensorboard = "tensorboard"
    none = "none"


class ClapBackend(StrEnum):
    random = "random"
    laion = "laion"
    transformers = "transformers"
    none = "none"  # no CLAP scores during training


class FadEmbedding(StrEnum):
    clap = "clap"
    mel = "mel"
    probe = "probe"


class Split(StrEnum):
    train = "train"
    val = "val"
    test = "test"


class EvalTask(StrEnum):
    joint = "joint"
    conditional = "conditional"
    conditional_swapped = "conditional_swapped"
    interactive = "interactive"
    separation = "separation"  # every stem generated from the song's mix (composer.mix_track)
    arrangement = "arrangement"  # instrument + melody from the kept drums + bass and the mix (composer.mix_track)


class PitchTracker(StrEnum):
    chroma = "chroma"  # librosa only, the light default
    crepe = "crepe"  # torchcrepe pitch


class CrepeModel(StrEnum):
    tiny = "tiny"
    full = "full"
