"""`jen-composer evaluate-audio | listening-test | rpr`: score audio folders and run RPR tests."""

from __future__ import annotations

import argparse
from pathlib import Path

from jen_composer.core.config.evaluation import EvaluationConfig, ListeningTestConfig
from jen_composer.core.errors import ConfigError

_LT = ListeningTestConfig  # the defaults of listening-test and rpr (one place)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate-audio", help="score a folder of generated audio (CLAP, FAD, coherence)")
    p.add_argument("--dir", required=True, type=Path, help="clips as <id>/<track>.wav, <id>/mix.wav or <id>.wav")
    p.add_argument("--prompts", required=True, type=Path, help="JSON {id: prompt | {prompt, tempo, chords, kept}}")
    p.add_argument("--out", type=Path, default=None, help="report folder (default: <dir>/eval)")
    p.add_argument("--name", default="", help="row name in the table (default: the folder name)")
    p.add_argument("--reference", type=Path, default=None, help="reference song folder for FAD")
    p.add_argument("--config", default=None, help="experiment YAML whose evaluation/data groups to use")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="e.g. evaluation.clap.backend=laion")
    p.set_defaults(func=run_evaluate_audio)

    p = sub.add_parser("listening-test", help="build a blind pairwise A/B listening test (static HTML)")
    p.add_argument("--systems", nargs="+", required=True, metavar="NAME=DIR", help="first is the reference")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--prompts", type=Path, default=None, help="prompts file, shown above each pair")
    p.add_argument("--reference", default=_LT.reference_system,
                   help="system the others are compared with (default: the first)")
    p.add_argument("--pairs-per-clip", type=int, default=_LT.pairs_per_prompt)
    p.add_argument("--seed", type=int, default=EvaluationConfig.seed)
    p.set_defaults(func=run_listening_test)

    p = sub.add_parser("rpr", help="relative preference ratio per system from listening-test answers")
    p.add_argument("--answers", nargs="+", required=True, type=Path, help="JSON/CSV files from the page")
    p.add_argument("--key", required=True, type=Path, help="key.json written by listening-test")
    p.add_argument("--ci", choices=["wilson", "bootstrap"], default=_LT.ci_method)
    p.add_argument("--level", type=float, default=_LT.ci_level)
    p.add_argument("--bootstrap-samples", type=int, default=_LT.bootstrap_samples)
    p.add_argument("--seed", type=int, default=EvaluationConfig.seed)
    p.add_argument("--out", type=Path, default=None, help="write rpr.json here")
    p.set_defaults(func=run_rpr)


def _parse_systems(items: list[str]) -> dict[str, Path]:
    systems: dict[str, Path] = {}
    for item in items:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder:
            raise ConfigError(f"--systems: '{item}' must look like NAME=DIR")
        if name in systems:
            raise ConfigError(f"--systems: name '{name}' given twice")
        systems[name] = Path(folder)
    return systems


def run_evaluate_audio(args: argparse.Namespace) -> int:
    from omegaconf import OmegaConf

    from jen_composer.core.config import compose
    from jen_composer.core.config.data import DataConfig
    from jen_composer.inference.separator import CheckpointSeparator, is_checkpoint_separator
    from jen_composer.metrics.evaluate_audio import evaluate_audio_folder
    from jen_composer.metrics.report import write_report

    cfg = compose(args.config, args.overrides)
    ev: EvaluationConfig = OmegaConf.to_object(cfg.evaluation)  # type: ignore[assignment]
    data: DataConfig = OmegaConf.to_object(cfg.data)  # type: ignore[assignment]
    separator = None
    if is_checkpoint_separator(ev.separator):  # a composer's separation mode instead of Demucs
        separator = CheckpointSeparator(ev.separator, seed=int(ev.seed))
    result = evaluate_audio_folder(args.dir, args.prompts, ev, data.tracks, name=args.name,
                                   reference=args.reference, separator=separator)
    if result.notes:
        print(result.notes)
    out = args.out or args.dir / "eval"
    paths = write_report([result], out, data.tracks, title=f"evaluate-audio: {args.dir}")
    print((out / "results.md").read_text(), end="")
    print(f"wrote {paths['json']} and {paths['markdown']} (+ {len(paths) - 2} plots)")
    return 0


def run_listening_test(args: argparse.Namespace) -> int:
    from jen_composer.core.config.data import DataConfig
    from jen_composer.metrics.audio_folder import load_prompts
    from jen_composer.metrics.rpr import KEY_FILE, PAGE_DIR, build_listening_test

    systems = _parse_systems(args.systems)
    prompts = load_prompts(args.prompts) if args.prompts else None
    key = build_listening_test(systems, args.out, DataConfig().tracks, prompts, args.reference, args.seed,
                               args.pairs_per_clip)
    print(f"{len(key['trials'])} pairs; page: {args.out / PAGE_DIR / 'index.html'} "
          f"(share only {args.out / PAGE_DIR}); key: {args.out / KEY_FILE} (keep private)")
    return 0


def run_rpr(args: argparse.Namespace) -> int:
    import json

    from jen_composer.core.errors import DataError
    from jen_composer.core.io import atomic_write_json
    from jen_composer.metrics.rpr import compute_rpr, load_answers, rpr_rows

    if not args.key.is_file():
        raise DataError(f"{args.key}: key file not found")
    try:
        key = json.loads(args.key.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{args.key}: invalid JSON: {exc}") from None
    if not isinstance(key, dict) or not {"trials", "reference", "systems"} <= set(key):
        raise DataError(f"{args.key}: not a listening-test key (needs trials, reference, systems)")
    results = compute_rpr(load_answers(args.answers), key, args.ci, args.level, args.bootstrap_samples, args.seed)
    print(f"RPR vs {key['reference']} ({args.ci} {100 * args.level:.0f}% CI)")
    for r in results:
        print(f"  {r.system:20s} {100 * r.rpr:5.1f}%  [{100 * r.low:5.1f}, {100 * r.high:5.1f}]  "
              f"({r.wins}/{r.comparisons})")
    if args.out:
        atomic_write_json(args.out, {"reference": key["reference"], "results": rpr_rows(results)})
        print(f"wrote {args.out}")
    return 0
