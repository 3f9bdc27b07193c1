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
    data["autoencoder"].pop("spectral_phase_locking")  # added later still: off, not part of the id either
    data["composer"]["sampler"].pop("logsnr_points")
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


def test_keys_added_later_keep_the_ids_of_runs_made_before_them_while_off() -> None:
    """The bundle, README and docs name Table 2's runs by id (runs/ablation-curriculum/90bd9816e0 ...);
    `ablate` finds finished row-seeds by it. Keys added since (autoencoder.spectral_phase_locking,
    composer.sampler.logsnr_points) must not move those ids while they are off, and must when on."""
    from pathlib import Path

    from jen_composer.core.config.runinfo import run_id
    from jen_composer.workflows.ablation import load_manifest, row_config

    root = Path(__file__).resolve().parents[2]
    manifest = load_manifest(root / "experiments/ablations/table2.yaml")
    rows = {row.label: row for row in manifest.rows}
    ids = {label: [run_id(row_config(manifest, rows[label], s, [], root)) for s in manifest.seeds]
           for label in ("baseline", "+ curriculum training strategy")}
    assert ids == {"baseline": ["f64a6a23f0", "3604252b53", "8dda5d4ce9"],
                   "+ curriculum training strategy": ["90bd9816e0", "42409b53ec", "d2a71662a6"]}
    cfg = row_config(manifest, rows["baseline"], 0, [], root)
    cfg.autoencoder.spectral_phase_locking = True
    assert run_id(cfg) != "f64a6a23f0"
    cfg.autoencoder.spectral_phase_locking = False
    cfg.composer.sampler.logsnr_points = [-2.0]
    assert run_id(cfg) != "f64a6a23f0"
