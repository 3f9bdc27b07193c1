"""`jen-composer bundle`: check the bundled pretrained weights, or rebuild them from scratch."""

from __future__ import annotations

import argparse
import shlex


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bundle", help="verify the bundled weights (default engine of compose/studio/evaluate), or --retrain them")
    p.add_argument("--retrain", action="store_true", help="train the recipe from scratch and rewrite the bundle + manifest")
    p.add_argument("--recipe", help="with --retrain: experiments/{autoencoder,composer}/RECIPE.yaml (default: bundle, what is shipped)")
    p.add_argument("--out", help="bundle folder to write (default: the package's own, jen_composer/assets/bundle)")
    p.add_argument("--note", default="", help="a sentence recorded in the manifest (e.g. why this recipe)")
    p.add_argument("--ae", action="append", default=[], metavar="key=value", help="autoencoder override (repeatable)")
    p.add_argument("--from-ckpt", help="bundle this finished composer checkpoint instead of training (with --autoencoder)")
    p.add_argument("--autoencoder", help="with --from-ckpt: the exported autoencoder folder it decodes with; with "
                   "--retrain: reuse this export instead of training the recipe's autoencoder (which needs a GPU); with "
                   "--repack: store this export of the same network instead (e.g. rounded by autoencoder export --calibrate)")
    p.add_argument("--autoencoder-run", help="with --from-ckpt: the autoencoder's run folder (recorded in the manifest)")
    p.add_argument("--autoencoder-record", help="with --autoencoder, instead of --autoencoder-run: a JSON file saying how the "
                   "autoencoder was made (command, commit, machine, training_seconds) when its run folder is elsewhere")
    p.add_argument("--repack", metavar="DIR", help="store the models of the bundle in DIR again as --weights-dtype "
                   "(no training; their weights are read back as floats first: the manifest records the source's storage)")
    p.add_argument("--weights-dtype", metavar="DTYPE", help="how the written bundle stores both models' parameters: "
                   "float32, float16, int8, nf4 or nf3 (core/weight_storage.py; default: the shipped bundle's, BUNDLE_DTYPE); "
                   "an autoencoder export stored more compactly keeps its storage")
    p.add_argument("--autoencoder-dtype", metavar="DTYPE", help="with --retrain: nf3 (default, as shipped) or nf4, the "
                   "autoencoder's kernels rounded onto it by GPTQ on the first 32 training songs of the composer's data; "
                   "'nearest': stored as --weights-dtype by nearest rounding")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="composer overrides")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jen_composer.core.errors import ConfigError
    from jen_composer.core.weight_storage import check_storage_dtype
    from jen_composer.inference.bundle import (
        BUNDLE_AUTOENCODER_DTYPE,
        BUNDLE_DIR,
        BUNDLE_DTYPE,
        read_manifest,
        verify_bundle,
    )

    out = Path(args.out) if args.out else BUNDLE_DIR
    weights_dtype = check_storage_dtype(args.weights_dtype or BUNDLE_DTYPE, "--weights-dtype")
    if args.weights_dtype and not (args.repack or args.retrain or args.from_ckpt):
        raise ConfigError("--weights-dtype goes with --repack, --retrain or --from-ckpt (it says how a bundle is written)")
    if args.repack and (args.retrain or args.from_ckpt or args.autoencoder_run
                        or args.autoencoder_record or args.overrides or args.ae or args.note or args.recipe):
        raise ConfigError("--repack takes only --weights-dtype, --autoencoder and --out (it trains nothing)")
    if (args.autoencoder_run or args.autoencoder_record) and not (args.from_ckpt or args.retrain):
        raise ConfigError("--autoencoder-run and --autoencoder-record go with --from-ckpt or --retrain")
    if args.autoencoder and not (args.from_ckpt or args.retrain or args.repack):
        raise ConfigError("--autoencoder goes with --from-ckpt, --retrain or --repack")
    if args.retrain and not args.from_ckpt and (args.autoencoder_run or (args.autoencoder_record and not args.autoencoder)):
        raise ConfigError("--retrain: --autoencoder-record goes with --autoencoder (the export to reuse); "
                          "--autoencoder-run only with --from-ckpt")
    if args.autoencoder_dtype and not args.retrain:
        raise ConfigError("--autoencoder-dtype goes with --retrain (--repack and --from-ckpt take an export rounded with "
                          "`autoencoder export --calibrate`)")
    if args.autoencoder_dtype not in (None, "nf3", "nf4", "nearest"):
        raise ConfigError(f"--autoencoder-dtype: '{args.autoencoder_dtype}' is not one of nf3, nf4, nearest")
    if args.recipe and not args.retrain:
        raise ConfigError("--recipe goes with --retrain (it names the recipe to train)")
    recipe = args.recipe or "bundle"
    dtype = ["--weights-dtype", weights_dtype]  # recorded as used, so the manifest's command means the same later
    if args.repack:
        from jen_composer.workflows.bundle_repack import repack_bundle

        argv = ["jen-composer", "bundle", "--repack", args.repack, "--weights-dtype", weights_dtype,
                *(["--autoencoder", args.autoencoder] if args.autoencoder else []), *(["--out", args.out] if args.out else [])]
        repack_bundle(shlex.join(argv), Path(args.repack), weights_dtype, out,
                      Path(args.autoencoder) if args.autoencoder else None)
    elif args.from_ckpt:
        from jen_composer.workflows.bundle_from_runs import bundle_from_runs

        if args.retrain or not args.autoencoder:
            raise ConfigError("--from-ckpt needs --autoencoder EXPORT_DIR and excludes --retrain")
        if args.autoencoder_run and args.autoencoder_record:
            raise ConfigError("--autoencoder-run and --autoencoder-record: give one of them")
        argv = ["jen-composer", "bundle", "--from-ckpt", args.from_ckpt, "--autoencoder", args.autoencoder,
                *(["--autoencoder-run", args.autoencoder_run] if args.autoencoder_run else []),
                *(["--autoencoder-record", args.autoencoder_record] if args.autoencoder_record else []),
                *(["--out", args.out] if args.out else []), *(["--note", args.note] if args.note else []), *dtype]
        bundle_from_runs(shlex.join(argv), Path(args.from_ckpt), Path(args.autoencoder), out,
                         Path(args.autoencoder_run) if args.autoencoder_run else None, args.note,
                         Path(args.autoencoder_record) if args.autoencoder_record else None, weights_dtype)
    elif args.retrain:
        from jen_composer.workflows.bundle_retrain import retrain_bundle

        argv = ["jen-composer", "bundle", "--retrain", "--recipe", recipe, *(f"--ae={o}" for o in args.ae)]
        argv += [*(["--autoencoder", args.autoencoder] if args.autoencoder else []),
                 *(["--autoencoder-record", args.autoencoder_record] if args.autoencoder_record else [])]
        ae_dtype = args.autoencoder_dtype or BUNDLE_AUTOENCODER_DTYPE
        argv += [*(["--out", args.out] if args.out else []), *(["--note", args.note] if args.note else []), *dtype,
                 "--autoencoder-dtype", ae_dtype, *args.overrides]
        retrain_bundle(shlex.join(argv), recipe, out, ae_overrides=args.ae, overrides=args.overrides, note=args.note,
                       autoencoder=Path(args.autoencoder) if args.autoencoder else None,
                       autoencoder_record=Path(args.autoencoder_record) if args.autoencoder_record else None,
                       weights_dtype=weights_dtype, autoencoder_dtype=None if ae_dtype == "nearest" else ae_dtype)
    ckpt = verify_bundle(out)
    m = read_manifest(out)
    size = sum((out / rel).stat().st_size for rel in m["files"]) / 1e6
    commit = m.get("commit") or {}
    print(f"bundled weights: {out} ({size:.1f} MB, sha256 verified)")
    print(f"   recipe:   {m.get('recipe')}" + (f"  -- {m['note']}" if m.get("note") else ""))
    print(f"   command:  {m.get('command')}")
    print(f"   commit:   {commit.get('sha')}{' (uncommitted changes)' if commit.get('dirty') else ''}")
    print(f"   trained:  {m.get('training_seconds', {}).get('total')} s on {m.get('machine', {}).get('platform')}")
    print(f"   stored:   {m.get('weights', 'not recorded')}")
    if m.get("repacked_from"):
        print(f"   repacked: from {m['repacked_from'][0].get('weights_dtype') or m['repacked_from'][0].get('weights')}")
    print(f"   composer: {ckpt}")
    return 0
