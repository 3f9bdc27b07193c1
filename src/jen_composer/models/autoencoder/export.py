"""Standalone autoencoder artefacts: ``model.safetensors`` + ``config.json``, loadable without Lightning.

``config.json`` = ``{"kind": "waveform_vae" | "encodec" | "dac", "format_version": 1, "checksum",
"config" (vae) | "pretrained" (codec), "weights_dtype"}``. A VAE's parameters may be stored as float16,
int8, nf4 or nf3 (`weight_storage`, for the bundled weights); loading rebuilds a float32 model, and the
recorded checksum is the one of that rebuilt model. Codec artefacts store only the latent statistics and point
at the codec's own weights. Loading never unpickles code (safetensors; .ckpt via weights_only).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from jen_composer.core.checkpoints import CHECKPOINT_KEY, read_checkpoint
from jen_composer.core.config.autoencoder import AutoencoderConfig
from jen_composer.core.errors import CheckpointError, ConfigError, one_line
from jen_composer.core.io import atomic_path, atomic_write_json, read_json_object
from jen_composer.core.weight_storage import STORAGE_DTYPES, check_storage_dtype, pack, unpack
from jen_composer.models.autoencoder.base import NormalisedAutoencoder
from jen_composer.models.autoencoder.codecs import DACAdapter, EncodecAdapter
from jen_composer.models.autoencoder.model import (
    DECODING_KEYS,
    WaveformVAE,
    as_autoencoder_config,
    config_dict,
)

FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
MODULE_PREFIX = "model."  # the LightningModule keeps the VAE as `self.model`
EMA_PREFIX = "ema.shadow."  # ... and its EMA copy as `self.ema.shadow`


def export_autoencoder(model: NormalisedAutoencoder, out_dir: str | Path, weights_dtype: str = "float32",
                       rounding: dict[str, Any] | None = None) -> Path:
    """Write the artefact into ``out_dir`` (atomically, weights first); return the folder.

    ``weights_dtype`` float16, int8, nf4 or nf3 stores a VAE's parameters smaller (`weight_storage`); the
    recorded checksum is then the one of the model a load rebuilds from them. ``rounding`` (how the
    weights were put onto that storage's grid beforehand, e.g. by calibrated rounding) is recorded as is."""
    check_storage_dtype(weights_dtype)
    out = Path(out_dir)
    desc = model.describe()
    if desc["kind"] == "waveform_vae":
        tensors = pack(model.state_dict(), {name for name, _ in model.named_parameters()}, weights_dtype)
        if weights_dtype != "float32":  # the checksum of what a load rebuilds
            model = copy.deepcopy(model)
            model.load_state_dict(unpack(tensors), strict=True)
    else:  # codecs: only our latent statistics; weights stay with the codec
        tensors = {"latent_mean": model.latent_mean, "latent_std": model.latent_std}
        weights_dtype = "float32"
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / WEIGHTS) as tmp:
        save_file(tensors, str(tmp))
    atomic_write_json(out / CONFIG, {**desc, "format_version": FORMAT_VERSION, "checksum": model.checksum(),
                                     "weights_dtype": weights_dtype, **({"rounding": rounding} if rounding else {})})
    return out


def _read_config(folder: Path) -> dict[str, Any]:
    return read_json_object(folder / CONFIG, CheckpointError, missing="missing (not an exported autoencoder folder)")


def _read_weights(folder: Path) -> dict[str, torch.Tensor]:
    path = folder / WEIGHTS
    if not path.is_file():
        raise CheckpointError(f"{path}: missing weights file")
    try:
        return unpack(load_file(str(path)))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupt safetensors file ({one_line(exc)})") from None


def _load_state(model: torch.nn.Module, state: dict[str, torch.Tensor], source: Path) -> None:
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{source}: weights do not match the config ({one_line(exc)})") from None


def _load_exported(folder: Path) -> NormalisedAutoencoder:
    data = _read_config(folder)
    kind = data.get("kind")
    model: NormalisedAutoencoder
    if data.get("weights_dtype", "float32") not in STORAGE_DTYPES:
        raise CheckpointError(f"{folder / CONFIG}: weights_dtype {data['weights_dtype']!r} is not one of {', '.join(STORAGE_DTYPES)}")
    if kind == "waveform_vae":
        if "config" not in data:
            raise CheckpointError(f"{folder / CONFIG}: no 'config' for kind waveform_vae")
        try:
            model = WaveformVAE(data["config"])
        except ConfigError as exc:
            raise CheckpointError(f"{folder / CONFIG}: {exc}") from None
        _load_state(model, _read_weights(folder), folder / WEIGHTS)
    elif kind in ("encodec", "dac"):
        model = load_codec(kind, str(data.get("pretrained", "")))
        _load_state(model, {**model.state_dict(), **_read_weights(folder)}, folder / WEIGHTS)
    else:
        raise CheckpointError(f"{folder / CONFIG}: unknown kind {kind!r} (expected waveform_vae, encodec or dac)")
    recorded = data.get("checksum")
    if recorded and kind == "waveform_vae" and recorded not in (model.checksum(), model.full_checksum()):
        raise CheckpointError(f"{folder}: weights checksum {model.checksum()} differs from recorded {recorded}")
    return model.eval()


def load_codec(kind: str, name_or_path: str) -> NormalisedAutoencoder:
    if kind == "encodec":
        return EncodecAdapter.from_pretrained(name_or_path)
    if kind == "dac":
        return DACAdapter.from_pretrained(name_or_path)
    raise ConfigError(f"autoencoder.kind: unknown codec '{kind}' (expected encodec or dac)")


def _codec_kind(name: str) -> str | None:
    lowered = name.lower()
    if "encodec" in lowered:
        return "encodec"
    if lowered.startswith("dac_") or "descript" in lowered or lowered.endswith(".pth"):
        return "dac"
    return None


def load_autoencoder(path_or_name: str | Path) -> NormalisedAutoencoder:
    """An exported folder, a Lightning .ckpt, a local codec folder/file, or a codec hub name."""
    path = Path(path_or_name)
    if path.is_file() and path.suffix == ".ckpt":
        return model_from_checkpoint(path)
    if path.is_dir():
        data = _read_config(path)
        if data.get("model_type") == "encodec":  # a transformers save_pretrained folder
            return EncodecAdapter.from_pretrained(str(path))
        return _load_exported(path)
    kind = _codec_kind(str(path_or_name))
    if kind is not None:
        return load_codec(kind, str(path_or_name))
    raise CheckpointError(
        f"{path_or_name}: not found (expected an exported autoencoder folder, a .ckpt, or a codec name "
        "like facebook/encodec_24khz or dac_44khz)"
    )


def model_from_checkpoint(path: str | Path, use_ema: bool = True) -> WaveformVAE:
    """Rebuild the VAE from an autoencoder-task .ckpt (its embedded config + weights, EMA if any)."""
    path = Path(path)
    ckpt = read_checkpoint(path)
    try:
        cfg = ckpt[CHECKPOINT_KEY]["config"]["autoencoder"]
    except (KeyError, TypeError):
        raise CheckpointError(f"{path}: no embedded config (checkpoint['{CHECKPOINT_KEY}']['config'])") from None
    prefix = EMA_PREFIX if use_ema and any(k.startswith(EMA_PREFIX) for k in ckpt["state_dict"]) else MODULE_PREFIX
    state = {k[len(prefix):]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    if not state:
        raise CheckpointError(f"{path}: no '{MODULE_PREFIX}*' weights: not an autoencoder checkpoint")
    try:
        model = WaveformVAE(cfg)
    except ConfigError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    _load_state(model, state, path)
    return model.eval()


def export_from_checkpoint(ckpt_path: str | Path, out_dir: str | Path, use_ema: bool = True,
                           weights_dtype: str = "float32") -> Path:
    """Export an autoencoder .ckpt as a standalone artefact (what `data encode` and the composer load).

    Refuses a checkpoint whose latent statistics were never computed (mean exactly 0, std exactly 1:
    the initial buffers): the composer would be trained on unnormalised latents without anyone
    noticing. They are computed by each validation pass, so a periodic checkpoint saved at the same
    step as the final validation (it is written just before it) lacks them."""
    model = model_from_checkpoint(ckpt_path, use_ema)
    if bool((model.latent_mean == 0).all()) and bool((model.latent_std == 1).all()):
        raise CheckpointError(
            f"{ckpt_path}: its latent statistics were never computed (it was saved before any validation pass); "
            "export a checkpoint saved after one, e.g. the run's best-step*.ckpt")
    return export_autoencoder(model, out_dir, weights_dtype)


def rebuild_exported(source: str | Path, out_dir: str | Path, decoding: dict[str, Any]) -> tuple[WaveformVAE, str]:
    """(the exported VAE in ``source`` rebuilt with other decoding settings, ``DECODING_KEYS`` only; the storage
    its folder records), refusing in one line what a re-export into ``out_dir`` cannot do."""
    source = Path(source)
    if not source.is_dir():
        raise CheckpointError(f"{source}: not an exported autoencoder folder")
    if Path(out_dir).resolve() == source.resolve():
        raise ConfigError(f"--out: {out_dir} is the source folder; write the re-export elsewhere")
    unknown = sorted(set(decoding) - set(DECODING_KEYS))
    if unknown:
        raise ConfigError(f"autoencoder.{unknown[0]}: changes the weights or the latents; a re-export may change "
                          f"only {', '.join('autoencoder.' + k for k in DECODING_KEYS)}")
    model = _load_exported(source)
    if not isinstance(model, WaveformVAE):
        raise CheckpointError(f"{source}: a codec artefact holds no weights of its own to store or decode otherwise")
    if decoding and model.cfg.architecture != "spectral":
        raise CheckpointError(f"{source}: only a spectral autoencoder has decoding settings to change")
    rebuilt = WaveformVAE(as_autoencoder_config({**config_dict(model.cfg), **decoding}))  # bad values: one line
    rebuilt.load_state_dict(model.state_dict(), strict=True)
    return rebuilt.eval(), str(_read_config(source).get("weights_dtype", "float32"))


def reexport_autoencoder(source: str | Path, out_dir: str | Path, decoding: dict[str, Any],
                         weights_dtype: str | None = None) -> Path:
    """An exported VAE written again with other decoding settings (``DECODING_KEYS`` only) and/or another
    storage. With the source's storage (``weights_dtype`` None): the same weights, latents and checksum.
    With another (e.g. nf4, to score what a bundle would ship before building one): the weights rounded
    as that storage rounds them, and the checksum of what a load rebuilds from them. A record of how the
    source's values were rounded (``rounding``, from `--calibrate`) is kept while the storage is."""
    model, stored = rebuild_exported(source, out_dir, decoding)
    rounding = _read_config(Path(source)).get("rounding") if (weights_dtype or stored) == stored else None
    return export_autoencoder(model, out_dir, weights_dtype or stored, rounding=rounding)  # same storage: same values


def build_autoencoder(cfg: AutoencoderConfig | DictConfig) -> NormalisedAutoencoder:
    """From the `autoencoder` config group: a fresh VAE, or the artefact/codec named by ``pretrained``."""
    if cfg.pretrained:
        return load_autoencoder(cfg.pretrained)
    if cfg.kind != "vae":
        raise ConfigError(f"autoencoder.pretrained: kind '{cfg.kind}' needs a hub name or local path")
    return WaveformVAE(cfg)
