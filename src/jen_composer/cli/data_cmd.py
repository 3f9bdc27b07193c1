"""`jen-composer data ...`: make, convert, split and encode datasets (see docs/data.md)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from jen_composer.core.config.data import DataConfig, SynthConfig
from jen_composer.core.errors import DataError

if TYPE_CHECKING:
    from jen_composer.data.convert.common import ConvertSummary

_DEFAULT = DataConfig()
_SYNTH = SynthConfig()
PREPARE_FORMATS = ("slakh2100", "musdb18hq", "moisesdb", "stems")  # = data.convert.prepare.FORMATS


def _audio_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sample-rate", type=int, default=_DEFAULT.sample_rate, help="output sample rate (Hz)")
    p.add_argument("--channels", type=int, default=_DEFAULT.channels, choices=(1, 2))


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="make, convert, split and encode multi-track datasets")
    cmds = data.add_subparsers(dest="data_command", metavar="ACTION", parser_class=type(data))
    cmds.required = True

    p = cmds.add_parser("synth", help="render the procedural benchmark (FluidSynth + General MIDI)")
    p.add_argument("--out", required=True)
    p.add_argument("--songs", type=int, default=_SYNTH.songs)
    p.add_argument("--seconds", type=float, default=_SYNTH.seconds)
    p.add_argument("--seed", type=int, default=_SYNTH.seed)
    p.add_argument("--soundfont", default=_SYNTH.soundfont)
    p.add_argument("--genres", nargs="+", default=list(_SYNTH.genres))
    _audio_args(p)
    p.set_defaults(func=_synth)

    p = cmds.add_parser("render-midi", help="render a folder of General MIDI files into four stems each")
    p.add_argument("--midi", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--soundfont", default=_SYNTH.soundfont)
    p.add_argument("--skip-bad", action="store_true", help="warn about and skip unreadable files")
    _audio_args(p)
    p.set_defaults(func=_render_midi)

    p = cmds.add_parser("prepare", help="convert Slakh2100 / MUSDB18-HQ / MoisesDB / a stems folder")
    p.add_argument("--format", required=True, choices=PREPARE_FORMATS)
    p.add_argument("--src", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--mapping", help="stems format: JSON/YAML {track: [glob, ...]}")
    p.add_argument("--skip-bad", action="store_true")
    _audio_args(p)
    p.set_defaults(func=_prepare)

    p = cmds.add_parser("separate", help="split plain mixes into stems with Demucs (optional dependency)")
    p.add_argument("--src", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--model", default="htdemucs")
    _audio_args(p)
    p.set_defaults(func=_separate)

    p = cmds.add_parser("split", help="write <data>/splits.json (4:1 train:test by song, val from train)")
    p.add_argument("--data", required=True)
    p.add_argument("--seed", type=int, default=_DEFAULT.split_seed)
    p.add_argument("--test-fraction", type=float, default=_DEFAULT.test_fraction)
    p.add_argument("--val-fraction", type=float, default=_DEFAULT.val_fraction)
    p.add_argument("--sample-rate", type=int, help="expected rate for the song check (default: the first song's)")
    p.add_argument("--channels", type=int, default=1, choices=(1, 2))
    p.set_defaults(func=_split)

    p = cmds.add_parser("check", help="validate every song folder and print a summary")
    p.add_argument("--data", required=True)
    p.add_argument("--skip-bad", action="store_true")
    _audio_args(p)
    p.set_defaults(func=_check)

    p = cmds.add_parser("encode", help="pre-encode every track into a latent cache")
    p.add_argument("--autoencoder", required=True, help="exported autoencoder artefact (path or name)")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--skip-bad", action="store_true")
    p.add_argument("--with-mix", action="store_true",
                   help="also encode each song's mix (needed by composer.mix_track; adds it to an existing cache)")
    p.set_defaults(func=_encode)


def _synth(args: argparse.Namespace) -> int:
    from jen_composer.data.synth import synth_dataset

    cfg = SynthConfig(songs=args.songs, seconds=args.seconds, seed=args.seed, soundfont=args.soundfont, genres=args.genres)
    ids = synth_dataset(args.out, cfg, args.sample_rate, args.channels)
    print(f"wrote {len(ids)} songs to {args.out}")
    return 0


def _render_midi(args: argparse.Namespace) -> int:
    from jen_composer.data.convert.midi import render_midi_folder

    s = render_midi_folder(args.midi, args.out, args.sample_rate, args.channels, args.soundfont,
                           "skip" if args.skip_bad else "error")
    _print_summary(s)
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from jen_composer.data.convert import prepare_dataset

    s = prepare_dataset(args.format, args.src, args.out, args.sample_rate, args.channels, args.mapping,
                        "skip" if args.skip_bad else "error")
    _print_summary(s)
    return 0


def _print_summary(summary: ConvertSummary) -> None:
    """One line per converted or repaired file, then the counts (skipped songs were logged as warnings)."""
    for note in summary.notes:
        print(f"note: {note}")
    print(summary)


def _separate(args: argparse.Namespace) -> int:
    from jen_composer.data.separate import separate_folder

    _print_summary(separate_folder(args.src, args.out, args.sample_rate, args.channels, args.model))
    return 0


def _split(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from jen_composer.data.index import first_sample_rate, scan_dataset
    from jen_composer.data.splits import check_fractions, write_splits

    check_fractions(args.test_fraction, args.val_fraction)
    rate = args.sample_rate or first_sample_rate(Path(args.data))
    cfg = DataConfig(root=args.data, sample_rate=rate, channels=args.channels, on_bad_input="skip")
    summary = scan_dataset(cfg)  # songs that `data check` rejects are left out of every split
    for song, reason in summary.skipped.items():
        print(f"excluded {song}: {reason}")
    songs = [r.song_id for r in summary.songs]
    if not songs:
        raise DataError(f"{args.data}: no usable songs to split ({summary})")
    path = write_splits(Path(args.data), songs, args.seed, args.test_fraction, args.val_fraction, force=True)
    data = json.loads(path.read_text())
    print(f"{path}: " + ", ".join(f"{k} {len(data[k])}" for k in ("train", "val", "test")))
    return 0


def _check(args: argparse.Namespace) -> int:
    from jen_composer.data.index import scan_dataset

    cfg = DataConfig(root=args.data, sample_rate=args.sample_rate, channels=args.channels,
                     on_bad_input="skip" if args.skip_bad else "error")
    summary = scan_dataset(cfg)
    for song, reason in summary.skipped.items():
        print(f"skipped {song}: {reason}")
    print(summary)
    return 0


def _encode(args: argparse.Namespace) -> int:
    from jen_composer.data.latent_cache import encode_latent_cache
    from jen_composer.models.autoencoder import load_autoencoder  # built by the models layer

    encoder = load_autoencoder(args.autoencoder)
    cfg = DataConfig(root=args.data, sample_rate=encoder.sample_rate, channels=encoder.channels,
                     on_bad_input="skip" if args.skip_bad else "error")
    print(encode_latent_cache(args.data, args.out, encoder, cfg, with_mix=args.with_mix))
    return 0
