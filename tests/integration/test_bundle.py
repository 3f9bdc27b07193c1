"""Bundled weights: slim composer checkpoint + exported autoencoder, both stored small (nf4 / nf3), + manifest,
verified before every use; a bundle stored again another way (`bundle --repack`) keeps its provenance."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from jen_composer.cli.main import main
from jen_composer.core.errors import CheckpointError
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference import bundle
from jen_composer.inference.pipeline import ComposerPipeline

GEN = dict(seconds=1.0, seed=3, settings=SamplerSettings(name="ddim", steps=2, text_guidance=1.0, stem_guidance=1.0))


@pytest.fixture(scope="module")
def made_bundle(tiny_composer_run, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    cfg, result = tiny_composer_run
    out = tmp_path_factory.mktemp("bundle") / "bundle"
    bundle.write_bundle(result.last_checkpoint, Path(cfg.composer.autoencoder), out, {"command": "test", "recipe": "toy"},
                        weights_dtype="nf4")
    return out, result.last_checkpoint


def test_bundle_is_self_contained_small_and_generates_like_its_source(made_bundle, one_thread) -> None:  # type: ignore[no-untyped-def]
    out, source = made_bundle
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "test" and set(manifest["files"]) == {"composer.ckpt", "autoencoder/config.json",
                                                                         "autoencoder/model.safetensors"}
    ckpt = bundle.verify_bundle(out)
    state = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    slim, full = ComposerPipeline.from_checkpoint(ckpt), ComposerPipeline.from_checkpoint(source)
    composer_params = {"model." + name for name, _ in slim.model.named_parameters(remove_duplicate=False)}
    assert manifest["weights_dtype"] == "nf4"
    for name, value in state.items():  # composer: every kernel as nf4 codes with their scales, other parameters float16
        if name in composer_params:
            kernel = name + ".nf4_shape" in state
            assert value.dtype == (torch.uint8 if kernel else torch.float16), name
            assert kernel == (tuple(slim.model.state_dict()[name[len("model."):]].shape[:1]) != (1,)
                              and slim.model.state_dict()[name[len("model."):]].dim() >= 2), name
    assert sum(name.endswith(".nf4_scale") for name in state) > 10
    assert ckpt.stat().st_size < 0.15 * source.stat().st_size  # no optimiser state, no live copy, 4-bit kernels
    ae_meta = json.loads((out / "autoencoder" / "config.json").read_text())  # decodes with the copy beside it
    assert ae_meta["weights_dtype"] == "nf4" and slim.autoencoder.checksum() == ae_meta["checksum"]
    from safetensors.torch import load_file

    stored = load_file(str(out / "autoencoder" / "model.safetensors"))
    params = dict(slim.autoencoder.named_parameters())
    kernels = [k for k, v in params.items() if v.dim() >= 2 and v.shape[0] > 1 and v[0].numel() > 1]  # one value a slice: float16
    assert kernels and all(stored[k].dtype == torch.uint8 and k + ".nf4_scale" in stored for k in kernels)  # every kernel, by name
    assert all(stored[k].dtype == torch.float16 for k in params if k not in kernels)
    a, b = slim.generate("a bright pop song", {}, ["bass", "melody"], **GEN), full.generate("a bright pop song", {}, ["bass", "melody"], **GEN)
    for track in a:  # 4-bit weights (~5% relative error each, measured on the bundled models) through the whole sampler
        assert np.linalg.norm(a[track] - b[track]) < 0.15 * np.linalg.norm(b[track])


def test_rebuilding_from_the_same_run_writes_the_same_bytes(made_bundle, tiny_composer_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, source = made_bundle
    cfg, _ = tiny_composer_run
    again = tmp_path / "again"
    bundle.write_bundle(source, Path(cfg.composer.autoencoder), again, {"command": "test", "recipe": "toy"}, weights_dtype="nf4")
    assert json.loads((again / "manifest.json").read_text())["files"] == json.loads((out / "manifest.json").read_text())["files"]


def test_damaged_bundle_is_one_line_error_before_use(made_bundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = made_bundle
    damaged = tmp_path / "bundle"
    shutil.copytree(out, damaged)
    data = bytearray((damaged / "composer.ckpt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (damaged / "composer.ckpt").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256 .* does not match the manifest"):
        bundle.verify_bundle(damaged)
    monkeypatch.setattr(bundle, "BUNDLE_DIR", damaged)
    assert main(["compose", "--prompt", "x", "--generate", "all", "--session", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "composer.ckpt" in err and "bundle --retrain" in err
    assert not (tmp_path / "s").exists()
    (damaged / "manifest.json").unlink()
    with pytest.raises(CheckpointError, match="no bundled weights"):
        bundle.verify_bundle(damaged)


def test_shipped_bundle_is_intact_and_is_the_default_engine(tmp_path: Path, one_thread,  # type: ignore[no-untyped-def]
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle"]) == 0 and "sha256 verified" in capsys.readouterr().out
    manifest = bundle.read_manifest()
    for key in ("command", "commit", "config", "training_seconds", "machine", "files"):
        assert manifest.get(key), f"manifest lacks {key}"
    assert manifest["command"].startswith("jen-composer bundle --") and manifest["commit"].get("sha")
    made_by = manifest["command"]
    if "--repack" in made_by:  # stored again from an earlier bundle: what made that one is kept
        assert manifest["repacked_from"][0]["files"] and manifest["weights_dtype"] == bundle.BUNDLE_DTYPE
        made_by = manifest["repacked_from"][-1]["command"]
    if "--from-ckpt" in made_by:  # made from finished runs: their own records travel with it
        assert manifest["made_from"]["composer"]["run"]["git"]["sha"]
        ae = manifest["made_from"]["autoencoder"]  # its run folder, or the record of a run kept on a lent GPU
        assert ae["run"]["git"]["sha"] if "run" in ae else (ae["record"]["commit"] and ae["record"]["command"])
        assert "bundle --retrain" in manifest["retrain_from_scratch"]
    assert sum((bundle.BUNDLE_DIR / f).stat().st_size for f in manifest["files"]) < 6e6  # nf3: 5.2 MB (README)
    assert len(bundle.seen_songs(manifest) or {}) >= 100  # the demo can tell which songs the weights never saw
    from jen_composer.core.checkpoints import CHECKPOINT_KEY, read_composer_checkpoint

    embedded = read_composer_checkpoint(bundle.BUNDLE_DIR / bundle.COMPOSER)[CHECKPOINT_KEY]["config"]
    assert not embedded["evaluation"]["probe"]["path"]  # no file of the machine it was trained on
    out = tmp_path / "export"
    rc = main(["compose", "--prompt", "warm lofi beat", "--generate", "all", "--steps", "2", "--seconds", "1",
               "--session", str(tmp_path / "s"), "--export", str(out)])
    assert rc == 0 and sorted(p.name for p in (out / "stems").glob("*.wav")) == [
        "bass.wav", "drums.wav", "instrument.wav", "melody.wav"]


def test_bundle_from_a_finished_run_records_its_provenance(tiny_composer_run, tmp_path: Path, one_thread,  # type: ignore[no-untyped-def]
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    cfg, result = tiny_composer_run
    out = tmp_path / "bundle"
    rc = main(["bundle", "--from-ckpt", str(result.last_checkpoint), "--autoencoder", str(cfg.composer.autoencoder),
               "--out", str(out), "--note", "test"])
    assert rc == 0 and "sha256 verified" in capsys.readouterr().out
    manifest = json.loads((out / bundle.MANIFEST).read_text())
    made = manifest["made_from"]["composer"]
    assert made["run"]["run_id"] == result.last_checkpoint.parent.parent.name  # the run's own run.json
    assert made["config"]["name"] == cfg.name and made["wall_seconds_start_to_last_checkpoint"] >= 0
    assert manifest["command"].startswith("jen-composer bundle --from-ckpt")
    assert manifest["retrain_from_scratch"] == "jen-composer bundle --retrain --recipe bundle"
    assert manifest[bundle.SEEN] is None  # the autoencoder's data is unknown: the demo cannot vouch for held-out songs
    pipe = ComposerPipeline.from_checkpoint(bundle.verify_bundle(out))
    made_tracks = pipe.generate("funk", {}, ["bass"], **GEN)
    assert set(made_tracks) == {"bass"} and np.isfinite(made_tracks["bass"]).all()


def test_bundle_from_ckpt_records_an_autoencoder_made_elsewhere(tiny_composer_run, tmp_path: Path, one_thread) -> None:  # type: ignore[no-untyped-def]
    cfg, result = tiny_composer_run
    record = tmp_path / "ae.json"
    from omegaconf import OmegaConf

    data = OmegaConf.to_container(cfg.data, resolve=True)
    record.write_text(json.dumps({"command": "jen-composer fit x.yaml", "commit": "abc", "training_seconds": 367,
                                  "data": {**data, "source": "audio"}}))
    out = tmp_path / "bundle"
    assert main(["bundle", "--from-ckpt", str(result.last_checkpoint), "--autoencoder", str(cfg.composer.autoencoder),
                 "--autoencoder-record", str(record), "--out", str(out)]) == 0
    manifest = json.loads((out / bundle.MANIFEST).read_text())
    assert manifest["made_from"]["autoencoder"]["record"]["commit"] == "abc"
    composer_seconds = manifest["made_from"]["composer"]["wall_seconds_start_to_last_checkpoint"]
    assert manifest["training_seconds"]["total"] == pytest.approx(composer_seconds + 367, abs=0.2)
    assert "--autoencoder-record" in manifest["command"]
    splits = json.loads((Path(cfg.data.root) / "splits.json").read_text())  # what the weights saw, by song
    assert set(manifest[bundle.SEEN]) == {*splits["train"], *splits["val"]} and not set(splits["test"]) & set(manifest[bundle.SEEN])
    record.write_text(json.dumps({"command": "c", "commit": "abc", "training_seconds": "six minutes"}))
    with pytest.raises(CheckpointError, match="ae.json: 'training_seconds' must be a number"):
        from jen_composer.workflows.bundle_from_runs import bundle_from_runs

        bundle_from_runs("x", result.last_checkpoint, Path(cfg.composer.autoencoder), tmp_path / "b2", autoencoder_record=record)
    assert not (tmp_path / "b2").exists()


def test_bundle_from_ckpt_needs_the_autoencoder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", "--from-ckpt", str(tmp_path / "x.ckpt"), "--out", str(tmp_path / "b")]) != 0
    assert "--from-ckpt needs --autoencoder" in capsys.readouterr().err
    assert main(["bundle", "--from-ckpt", "x.ckpt", "--autoencoder", "ae", "--autoencoder-run", "r",
                 "--autoencoder-record", "r.json"]) != 0
    assert "give one of them" in capsys.readouterr().err
    assert main(["bundle", "--autoencoder-record", "r.json"]) != 0
    assert "go with --from-ckpt" in capsys.readouterr().err


def test_retraining_a_gpu_recipe_without_a_gpu_is_one_line_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # recipes are found from the repository root
    started = __import__("time").perf_counter()
    assert main(["bundle", "--retrain", "--out", str(tmp_path / "b")]) == 2  # the default recipe: what is shipped
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "experiments/autoencoder/bundle.yaml" in err and "trainer.accelerator=cpu" in err
    assert not (tmp_path / "b").exists() and __import__("time").perf_counter() - started < 30  # nothing was rendered


def test_a_misfit_nf4_scale_in_a_composer_checkpoint_is_one_line(made_bundle, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, _ = made_bundle
    ckpt = torch.load(out / "composer.ckpt", map_location="cpu", weights_only=True)
    scale = next(k for k in ckpt["state_dict"] if k.endswith(".nf4_scale"))
    ckpt["state_dict"][scale] = ckpt["state_dict"][scale][:-1]
    torch.save(ckpt, tmp_path / "composer.ckpt")
    with pytest.raises(CheckpointError, match=r"composer.ckpt: .*nf4 codes .* do not fit a tensor of shape"):
        ComposerPipeline.from_checkpoint(tmp_path / "composer.ckpt", autoencoder=str(out / "autoencoder"))


def test_retrain_can_reuse_an_exported_autoencoder_and_records_it(
        tiny_autoencoder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`bundle --retrain --autoencoder DIR --autoencoder-record FILE`: the autoencoder stage copies the
    export (a GPU recipe's, here the tiny one) instead of training; the composer retrains on its latents."""
    from jen_composer.cli.main import main
    from tests.helpers import tiny_composer_overrides

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    record = tmp_path / "record.json"
    record.write_text(json.dumps({"command": "jen-composer fit ...", "training_seconds": 12.5}))
    songs, out = tmp_path / "songs", tmp_path / "bundle"
    overrides = [o for o in tiny_composer_overrides(songs, tmp_path / "latents", tmp_path / "ae-copy", tmp_path / "runs")
                 if not o.startswith("data.batch_size")]
    overrides += ["data.synth.songs=4", "data.synth.seconds=4", "data.batch_size=2", "data.val_fraction=0.25",
                  "data.test_fraction=0.25", "trainer.max_steps=2", "trainer.val_check_interval=2"]
    assert main(["bundle", "--retrain", "--recipe", "tiny", "--autoencoder", str(tiny_autoencoder),
                 "--autoencoder-record", str(record), "--out", str(out), *overrides]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["autoencoder_reused"]["export"] == str(tiny_autoencoder)
    assert manifest["autoencoder_reused"]["record"]["training_seconds"] == 12.5
    assert "--autoencoder" in manifest["command"] and manifest["config"]["autoencoder"] is None
    assert "--autoencoder-dtype nf3" in manifest["command"]  # the default, recorded as used
    stored = json.loads((out / "autoencoder" / "config.json").read_text())  # rounded by GPTQ, as the shipped one
    assert stored["weights_dtype"] == "nf3" and stored["rounding"]["method"] == "gptq"
    assert stored["rounding"]["data"] == str(songs) and stored["rounding"]["songs"]
    assert "rounded by gptq" in manifest["weights"]
    assert (tmp_path / "ae-copy" / "config.json").read_bytes() == (tiny_autoencoder / "config.json").read_bytes()
    from jen_composer.data.latent_cache import LatentCache

    bundle.verify_bundle(out)  # the composer trained on the reused autoencoder's latents
    assert LatentCache(tmp_path / "latents").checksum == json.loads((tiny_autoencoder / "config.json").read_text())["checksum"]


def test_decoding_through_another_autoencoder_needs_the_trained_one_to_check_against(made_bundle, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, _ = made_bundle
    shutil.copy(out / "composer.ckpt", tmp_path / "composer.ckpt")  # without the autoencoder it names beside it
    with pytest.raises(CheckpointError, match="cannot check that it encodes like"):
        ComposerPipeline.from_checkpoint(tmp_path / "composer.ckpt", autoencoder=str(out / "autoencoder"), same_encoding=True)
    assert ComposerPipeline.from_checkpoint(out / "composer.ckpt", autoencoder=str(out / "autoencoder"), same_encoding=True)


def test_retrain_refuses_to_copy_an_autoencoder_over_a_folder_that_holds_it(tiny_autoencoder: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    outer = tmp_path / "exports"
    shutil.copytree(tiny_autoencoder, outer / "ae")
    assert main(["bundle", "--retrain", "--recipe", "tiny", "--autoencoder", str(outer / "ae"), "--out", str(tmp_path / "b"),
                 f"composer.autoencoder={outer}", f"data.root={tmp_path / 'songs'}"]) == 2
    assert "contain one another" in capsys.readouterr().err
    assert (outer / "ae" / "config.json").is_file() and not (tmp_path / "songs").exists()


def test_repack_stores_a_bundle_again_and_keeps_its_provenance(made_bundle, tiny_composer_run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               one_thread, capsys: pytest.CaptureFixture[str]) -> None:
    """`jen-composer bundle --repack DIR --weights-dtype nf4 --out OUT` (README): an int8 bundle stored as nf4
    is the bundle written as nf4 from the run, up to the int8 rounding it went through first."""
    from safetensors.torch import load_file

    cfg, result = tiny_composer_run
    int8 = tmp_path / "int8"
    bundle.write_bundle(result.last_checkpoint, Path(cfg.composer.autoencoder), int8,
                        {"command": "jen-composer bundle --from-ckpt run", "recipe": "toy", "seen_songs": {"song0001": ["ab"]}},
                        weights_dtype="int8")
    out = tmp_path / "nf4"
    assert main(["bundle", "--repack", str(int8), "--weights-dtype", "nf4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sha256 verified" in printed and "repacked: from int8" in printed
    manifest, source = json.loads((out / bundle.MANIFEST).read_text()), json.loads((int8 / bundle.MANIFEST).read_text())
    assert manifest["command"] == f"jen-composer bundle --repack {int8} --weights-dtype nf4 --out {out}"
    assert manifest["weights_dtype"] == "nf4" and manifest["seen_songs"] == {"song0001": ["ab"]} and manifest["recipe"] == "toy"
    (record,) = manifest["repacked_from"]
    assert record["files"] == source["files"] and record["weights_dtype"] == "int8"
    assert record["command"] == "jen-composer bundle --from-ckpt run"
    direct, _ = made_bundle  # the same run written as nf4 in one step
    for rel in ("autoencoder/model.safetensors",):
        a, b = load_file(str(out / rel)), load_file(str(direct / rel))
        assert a.keys() == b.keys()
        codes = [k for k in a if a[k].dtype == torch.uint8]
        differing = sum(int((a[k] != b[k]).sum()) for k in codes) / sum(a[k].numel() for k in codes)
        assert 0 < differing < 0.05  # a few values sat near a midpoint between two levels and went the other way
    slim, direct_pipe = ComposerPipeline.from_checkpoint(bundle.verify_bundle(out)), ComposerPipeline.from_checkpoint(direct / "composer.ckpt")
    x, y = slim.generate("funk", {}, ["bass"], **GEN)["bass"], direct_pipe.generate("funk", {}, ["bass"], **GEN)["bass"]
    assert np.linalg.norm(x - y) < 0.05 * np.linalg.norm(y)
    again = tmp_path / "again"  # a repacked bundle repacked: the whole chain, newest first
    assert main(["bundle", "--repack", str(out), "--weights-dtype", "float16", "--out", str(again)]) == 0
    chain = json.loads((again / bundle.MANIFEST).read_text())["repacked_from"]
    assert [r["weights_dtype"] for r in chain] == ["nf4", "int8"]


@pytest.mark.parametrize("argv,message", [
    (["--weights-dtype", "int3", "--repack", "x"], "--weights-dtype: 'int3' is not one of float32, float16, int8, nf4, nf3"),
    (["--weights-dtype", "int8"], "--weights-dtype goes with --repack, --retrain or --from-ckpt"),
    (["--repack", "x", "--retrain"], "--repack takes only --weights-dtype, --autoencoder and --out"),
    (["--repack", "x", "--note", "why"], "--repack takes only --weights-dtype, --autoencoder and --out"),
    (["--repack", "x", "--recipe", "tiny"], "--repack takes only --weights-dtype, --autoencoder and --out"),
    (["--recipe", "tiny"], "--recipe goes with --retrain"),
    (["--repack", "x", "--autoencoder-dtype", "nf3"], "--autoencoder-dtype goes with --retrain"),
    (["--retrain", "--autoencoder-dtype", "int8"], "--autoencoder-dtype: 'int8' is not one of nf3, nf4, nearest"),
])
def test_bad_bundle_storage_arguments_are_one_line(argv: list[str], message: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", *argv, "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0 and not (tmp_path / "b").exists()


def test_repack_refuses_a_damaged_source_before_writing(made_bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    out, _ = made_bundle
    damaged = tmp_path / "src"
    shutil.copytree(out, damaged)
    (damaged / "autoencoder" / "config.json").write_text("{}")
    assert main(["bundle", "--repack", str(damaged), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip()
    assert "config.json: sha256" in err and err.count("\n") == 0 and not (tmp_path / "b").exists()


def test_the_readme_repack_line_in_place_on_the_shipped_bundle_is_a_fixed_point(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """README: `jen-composer bundle --repack src/jen_composer/assets/bundle --weights-dtype nf3` (source = output,
    the package's own folder; here a copy of it). Values on the storage's grid rounded to it again are themselves:
    every block's largest value is its scale (nearest rounding, and GPTQ by construction), so every weight stays
    (a tensor with one value per slice, once block-coded, may now be stored as the float16 it always decoded to);
    the manifest grows one `repacked_from` record."""
    from safetensors.torch import load_file

    from jen_composer.core.weight_storage import unpack
    from jen_composer.inference import bundle as bundle_module

    copy, shipped = tmp_path / "bundle", bundle_module.BUNDLE_DIR
    shutil.copytree(shipped, copy)
    before = json.loads((copy / bundle_module.MANIFEST).read_text())
    monkeypatch.setattr(bundle_module, "BUNDLE_DIR", copy)
    assert main(["bundle", "--repack", str(copy), "--weights-dtype", bundle_module.BUNDLE_DTYPE]) == 0
    assert "sha256 verified" in capsys.readouterr().out
    after = json.loads((copy / bundle_module.MANIFEST).read_text())
    assert after["files"].keys() == before["files"].keys()
    for rel in after["files"]:  # the same values, file by file, and never larger
        assert (copy / rel).stat().st_size <= (shipped / rel).stat().st_size, rel
    was, now = (unpack(load_file(str(d / "autoencoder" / "model.safetensors"))) for d in (shipped, copy))
    assert was.keys() == now.keys() and all(torch.equal(was[k].float(), now[k].float()) for k in was)
    old_state, new_state = (unpack(torch.load(d / "composer.ckpt", map_location="cpu", weights_only=True)["state_dict"])
                            for d in (shipped, copy))
    assert old_state.keys() == new_state.keys() and all(torch.equal(old_state[k].float(), new_state[k].float()) for k in old_state)
    assert after["repacked_from"][0]["files"] == before["files"] and len(after["repacked_from"]) == len(before["repacked_from"]) + 1
    assert after["command"] == f"jen-composer bundle --repack {copy} --weights-dtype {bundle_module.BUNDLE_DTYPE}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # no staging folder left beside it


def test_repack_refuses_an_out_folder_that_holds_the_source(made_bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    """`--repack a/b --out a` would replace a, the source inside it included."""
    out, _ = made_bundle
    shutil.copytree(out, tmp_path / "a" / "b")
    assert main(["bundle", "--repack", str(tmp_path / "a" / "b"), "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err.strip()
    assert "contain one another" in err and err.count("\n") == 0 and (tmp_path / "a" / "b" / "manifest.json").is_file()


def test_repack_with_a_calibrated_autoencoder_keeps_its_nf3_values_and_the_composer(  # type: ignore[no-untyped-def]
        made_bundle, tiny_songs: Path, tmp_path: Path, one_thread, capsys: pytest.CaptureFixture[str]) -> None:
    """`jen-composer bundle --repack DIR --autoencoder NF3_EXPORT --out OUT` (README, autoencoder_bench.md): the
    composer stored as before, the autoencoder replaced by the same network rounded onto nf3 by
    `autoencoder export --calibrate`, kept as nf3 (more compact than the bundle's nf4) value for value, and how it
    was rounded recorded in the manifest; another network is refused in one line."""
    from safetensors.torch import load_file

    from jen_composer.workflows.calibrated_export import calibrated_export

    source, _ = made_bundle
    nf3 = calibrated_export(source / "autoencoder", tmp_path / "nf3", {}, "nf3", tiny_songs, songs=1, log=lambda _: None)
    out = tmp_path / "out"
    assert main(["bundle", "--repack", str(source), "--weights-dtype", "nf4", "--autoencoder", str(nf3), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sha256 verified" in printed and "stored as nf3, rounded by gptq on 1 training songs" in printed
    manifest = json.loads((out / bundle.MANIFEST).read_text())
    assert manifest["command"] == f"jen-composer bundle --repack {source} --weights-dtype nf4 --autoencoder {nf3} --out {out}"
    assert manifest["files"]["composer.ckpt"] == json.loads((source / bundle.MANIFEST).read_text())["files"]["composer.ckpt"]
    written, exported = load_file(str(out / "autoencoder" / "model.safetensors")), load_file(str(nf3 / "model.safetensors"))
    assert written.keys() == exported.keys() and all(torch.equal(written[k], exported[k]) for k in exported)
    meta = json.loads((out / "autoencoder" / "config.json").read_text())
    assert meta["weights_dtype"] == "nf3" and meta["rounding"]["songs"] == json.loads((nf3 / "config.json").read_text())["rounding"]["songs"]
    ComposerPipeline.from_checkpoint(bundle.verify_bundle(out)).generate("funk", {}, ["bass"], **GEN)
    from safetensors.torch import save_file

    other = tmp_path / "other"  # another config
    shutil.copytree(nf3, other)
    meta_other = json.loads((other / "config.json").read_text())
    meta_other["config"]["latent_dim"] = meta_other["config"]["latent_dim"] + 1
    (other / "config.json").write_text(json.dumps(meta_other))
    retrained = tmp_path / "retrained"  # the same config, another training run: other latent statistics
    shutil.copytree(nf3, retrained)
    tensors = load_file(str(retrained / "model.safetensors"))
    save_file({**tensors, "latent_mean": tensors["latent_mean"] + 0.1}, str(retrained / "model.safetensors"))
    for folder in (other, retrained):
        assert main(["bundle", "--repack", str(source), "--autoencoder", str(folder), "--out", str(tmp_path / "b")]) == 2
        err = capsys.readouterr().err.strip()
        assert "is not the network of" in err and err.count("\n") == 0 and not (tmp_path / "b").exists()


def test_a_calibrated_autoencoder_is_stored_as_asked_whatever_the_composer_storage(  # type: ignore[no-untyped-def]
        made_bundle, tiny_songs: Path, tmp_path: Path, one_thread) -> None:
    """`bundle --retrain --autoencoder-dtype nf4` beside the default nf3 composer: write_bundle stores the GPTQ
    export as nf4, value for value with its record, instead of rounding it again to the composer's nf3."""
    from safetensors.torch import load_file

    from jen_composer.workflows.calibrated_export import calibrated_export

    source, ckpt = made_bundle
    nf4 = calibrated_export(source / "autoencoder", tmp_path / "nf4", {}, "nf4", tiny_songs, songs=1, log=lambda _: None)
    out = tmp_path / "out"
    bundle.write_bundle(ckpt, nf4, out, {"command": "test"}, weights_dtype="nf3", autoencoder_dtype="nf4")
    meta = json.loads((out / "autoencoder" / "config.json").read_text())
    assert meta["weights_dtype"] == "nf4" and meta["rounding"]["method"] == "gptq"
    written, exported = load_file(str(out / "autoencoder" / "model.safetensors")), load_file(str(nf4 / "model.safetensors"))
    assert written.keys() == exported.keys() and all(torch.equal(written[k], exported[k]) for k in exported)
    assert json.loads((out / bundle.MANIFEST).read_text())["weights_dtype"] == "nf3"
    plain = tmp_path / "plain"  # without it: the composer's nf3 by nearest rounding, and no record of a calibration
    bundle.write_bundle(ckpt, nf4, plain, {"command": "test"}, weights_dtype="nf3")
    assert "rounding" not in json.loads((plain / "autoencoder" / "config.json").read_text())
