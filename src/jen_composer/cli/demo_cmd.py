"""`jen-composer demo`: the whole pipeline on the built-in benchmark (what `make demo` runs)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="render the benchmark, train tiny models, generate stems (CPU, offline)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="overrides for experiments/composer/tiny.yaml")
    p.add_argument("--ae", action="append", default=[], metavar="key=value",
                   help="override for experiments/autoencoder/tiny.yaml (repeatable)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from jen_composer.workflows.demo import run_demo
    from jen_composer.workflows.demo_scores import summary

    result = run_demo(overrides=args.overrides, ae_overrides=args.ae)
    total = sum(result.seconds.values())
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
    print(f"\n== demo finished in {total:.0f} s ({stages}); this machine: {result.gflops:.0f} GFLOP/s")
    print(f"   short training runs: {result.autoencoder} (autoencoder), {result.composer_checkpoint} (composer)")
    print(f"   music from the bundled weights ({result.bundle}):")
    for name, folder in result.samples.items():
        print(f"   {name + ':':<24} {folder}/")
    print(f"   scores: {summary(result.scores)} ({result.page.parent / 'scores.json'})")
    print(f"\n   results page: {result.page}")
    print(f"   open it with:  xdg-open {result.page}   (or file://{result.page.resolve()})")
    return 0
