"""`jen-composer autoencoder export|evaluate`: a standalone artefact from a checkpoint; held-out quality."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("autoencoder", help="export an autoencoder checkpoint; measure reconstruction quality")
    cmds = p.add_subparsers(dest="autoencoder_command", metavar="ACTION", parser_class=type(p))
    cmds.required = True
    e = cmds.add_parser("export", help="write model.safetensors + config.json from a .ckpt (EMA weights if any), "
                        "or re-export an exported folder with other decoding settings")
    source = e.add_mutually_exclusive_group(required=True)
    source.add_argument("--ckpt", help="an autoencoder run's .ckpt")
    source.add_argument("--autoencoder", help="an exported folder, written again with the decoding overrides and/or "
                        "--weights-dtype")
    e.add_argument("--out", required=True)
    e.add_argument("--weights-dtype", metavar="DTYPE",
                   help="store the parameters as float32 (--ckpt's default), float16, int8, nf4 or nf3 (--autoencoder's "
                        "default: as the source stores them); e.g. nf3 to score what a bundle would ship")
    e.add_argument("--calibrate", metavar="DATA",
                   help="with --autoencoder and --weights-dtype nf4|nf3: round the kernels by GPTQ on the stems of the "
                        "first training songs of this dataset (instead of to the nearest level)")
    e.add_argument("--calibration-songs", type=int, metavar="N",
                   help="songs of the training split that --calibrate uses (default 32)")
    e.add_argument("overrides", nargs="*", metavar="autoencoder.KEY=VALUE",
                   help="with --autoencoder: decoding settings (spectral_phase_iters, spectral_phase_locking)")
    e.set_defaults(func=run_export)
    v = cmds.add_parser("evaluate", help="SI-SDR / multi-res STFT / mel L1 on held-out songs vs silence and a low-pass copy")
    v.add_argument("--autoencoder", required=True, help="exported folder, .ckpt or codec name")
    v.add_argument("--data", required=True, help="dataset folder (canonical layout)")
    v.add_argument("--split", default="test", choices=["train", "val", "test"])
    v.add_argument("--max-batches", type=int, default=None)
    v.add_argument("--lowpass-hz", type=float, default=2000.0)
    v.set_defaults(func=run_evaluate)
    r = cmds.add_parser("roundtrip", help="harmonic/rhythmic fit of held-out stems before and after a round trip")
    r.add_argument("--autoencoder", required=True, help="exported folder, .ckpt or codec name")
    r.add_argument("--data", required=True, help="dataset folder of the rendered benchmark (needs its labels)")
    r.add_argument("--split", default="test", choices=["train", "val", "test"])
    r.add_argument("--clips", type=int, default=60, help="songs (the first N of the split)")
    r.add_argument("--seconds", type=float, default=4.096)
    r.add_argument("--tolerance", type=float, default=0.10, help="largest relative change that passes")
    r.add_argument("--out", help="also write the result as JSON here")
    r.add_argument("--probe", help="probe.pt (`probe-train`): also compare its accuracy on stems and mix")
    r.set_defaults(func=run_roundtrip)


def run_export(args: argparse.Namespace) -> int:
    from jen_composer.core.config.loader import parse_overrides
    from jen_composer.core.errors import ConfigError
    from jen_composer.models.autoencoder import export_from_checkpoint, reexport_autoencoder

    if args.weights_dtype is not None:
        from jen_composer.core.weight_storage import check_storage_dtype

        check_storage_dtype(args.weights_dtype, "--weights-dtype")  # before a checkpoint is read
    if args.calibration_songs is not None and not args.calibrate:
        raise ConfigError("--calibration-songs: goes with --calibrate")
    if args.calibrate and not args.autoencoder:
        raise ConfigError("--calibrate: rounds an exported folder (--autoencoder); export the checkpoint first")
    if args.calibrate and args.weights_dtype not in ("nf4", "nf3"):
        raise ConfigError(f"--calibrate: needs --weights-dtype nf4 or nf3 (got {args.weights_dtype or 'none'})")
    if args.ckpt:
        if args.overrides:
            raise ConfigError(f"{args.overrides[0]}: overrides need --autoencoder (an exported folder), not --ckpt")
        print(f"exported to {export_from_checkpoint(args.ckpt, args.out, weights_dtype=args.weights_dtype or 'float32')}")
        return 0
    given = parse_overrides(args.overrides)
    if set(given) - {"autoencoder"} or not isinstance(given.get("autoencoder", {}), dict):
        raise ConfigError(f"{args.overrides[0]}: overrides here are autoencoder.KEY=VALUE")
    decoding = given.get("autoencoder", {})
    if args.calibrate:
        from pathlib import Path

        from jen_composer.workflows.calibrated_export import DEFAULT_SONGS, calibrated_export

        written = calibrated_export(args.autoencoder, args.out, decoding, args.weights_dtype, Path(args.calibrate),
                                    DEFAULT_SONGS if args.calibration_songs is None else args.calibration_songs)
        print(f"exported to {written}")
        return 0
    print(f"exported to {reexport_autoencoder(args.autoencoder, args.out, decoding, args.weights_dtype)}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from jen_composer.core.config import compose
    from jen_composer.data import datamodule as dm
    from jen_composer.models.autoencoder import load_autoencoder
    from jen_composer.models.autoencoder.evaluate import evaluate_reconstruction

    model = load_autoencoder(args.autoencoder)
    cfg = compose(None, [f"data.root={args.data}", f"data.sample_rate={model.sample_rate}",
                         f"data.channels={model.channels}", "data.source=audio"])
    data = dm.MultiTrackDataModule(cfg.data, seed=0)
    data.setup()
    loader = {"train": data.train_dataloader, "val": data.val_dataloader, "test": data.test_dataloader}[args.split]()
    scores = evaluate_reconstruction(model, loader, args.lowpass_hz, args.max_batches)
    count = int(scores.pop("count")["tracks"])
    lag1 = scores.pop("latent")["lag1_autocorrelation"]
    metrics = sorted(scores["model"])
    print(f"| {args.split} split ({count} stem snippets) | " + " | ".join(metrics) + " |")
    print("|---|" + "---:|" * len(metrics))
    for name, row in scores.items():
        print(f"| {name} | " + " | ".join(f"{row[m]:.3f}" for m in metrics) + " |")
    print(f"latent lag-1 autocorrelation: {lag1:.3f} (1 = smooth in time, 0 = each frame independent of the next)")
    return 0


def run_roundtrip(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jen_composer.core.io import atomic_write_json
    from jen_composer.models.autoencoder import load_autoencoder
    from jen_composer.workflows.roundtrip import roundtrip_fit

    probe = None
    if args.probe:
        from jen_composer.metrics.probe.model import Probe

        probe = Probe.load(args.probe)
    result = roundtrip_fit(load_autoencoder(args.autoencoder), Path(args.data), args.split, args.clips, args.seconds,
                           args.tolerance, probe=probe)
    print(f"| {args.split} split ({result['songs']} songs x {args.seconds:g} s) | original | round trip | change |")
    print("|---|---:|---:|---:|")
    for key, row in result["scores"].items():
        if "original" in row:
            print(f"| {key} | {row['original']:.3f} | {row['reconstruction']:.3f} | {100 * row['relative_change']:+.1f}% |")
        else:
            print(f"| {key} (original vs round trip) | - | {row['reconstruction']:.3f} | - |")
    print(f"within {100 * args.tolerance:.0f}%: {'yes' if result['passed'] else 'NO'}")
    if args.out:
        atomic_write_json(Path(args.out), result)
    return 0
