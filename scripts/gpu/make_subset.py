"""Pack a subset of the rendered benchmark small enough to travel to a lent GPU machine (<64 MiB).

Why: the benchmark (560 MB of WAV) cannot travel, and the GPU machine cannot render it (no FluidSynth).
The subset keeps the first N songs of each split of ``data/bench/splits.json`` as FLAC stems plus
meta.json, with its own split manifest (no seed, so it is used as written).
    python scripts/gpu/make_subset.py data/bench .gpudata/bench-sub --train 30 --val 2 --test 12
``scripts/gpu/train_autoencoders.sh`` unpacks it to WAV on the GPU machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import soundfile as sf

STEMS = ("bass", "drums", "instrument", "melody")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--train", type=int, default=30)
    ap.add_argument("--val", type=int, default=2)
    ap.add_argument("--test", type=int, default=12)
    a = ap.parse_args()
    splits = json.loads((a.src / "splits.json").read_text())
    sub = {"train": splits["train"][: a.train], "val": splits["val"][: a.val], "test": splits["test"][: a.test]}
    shutil.rmtree(a.dst, ignore_errors=True)
    a.dst.mkdir(parents=True)
    (a.dst / "splits.json").write_text(json.dumps(sub, indent=1))
    for songs in sub.values():
        for song in songs:
            (a.dst / song).mkdir()
            shutil.copy(a.src / song / "meta.json", a.dst / song / "meta.json")
            for stem in STEMS:
                x, sr = sf.read(a.src / song / f"{stem}.wav", dtype="int16")
                sf.write(a.dst / song / f"{stem}.flac", x, sr, subtype="PCM_16", compression_level=1.0)
    print(f"{a.dst}: {sum(len(v) for v in sub.values())} songs")


if __name__ == "__main__":
    main()
