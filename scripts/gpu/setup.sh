# Sourced by the scripts/gpu/*.sh drivers on a lent GPU machine, in the repository root: installs the
# carried wheels (.whl) into /tmp/site and turns the carried FLAC subset (.gpudata/bench-sub, from
# scripts/gpu/make_subset.py) into data/bench-sub-gpu (WAV, as the data loader reads it fastest).
export PYTHONUNBUFFERED=1
python3 -c 'import omegaconf, soundfile, librosa, auraloss, pretty_midi' 2>/dev/null ||
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src:$PWD
python3 - <<'PY' || exit 1
import shutil
from pathlib import Path
import soundfile as sf
src, dst = Path(".gpudata/bench-sub"), Path("data/bench-sub-gpu")
shutil.rmtree(dst, ignore_errors=True); dst.mkdir(parents=True)
shutil.copy(src / "splits.json", dst / "splits.json")
for f in ("synth.json",):
    if (src / f).exists():
        shutil.copy(src / f, dst / f)
for song in sorted(p for p in src.iterdir() if p.is_dir()):
    (dst / song.name).mkdir()
    shutil.copy(song / "meta.json", dst / song.name / "meta.json")
    for f in song.glob("*.flac"):
        x, sr = sf.read(f, dtype="int16"); sf.write(dst / song.name / (f.stem + ".wav"), x, sr, subtype="PCM_16")
PY
# /tmp/jc runs the CLI from the source tree (the package is not installed there); also under `timeout`
printf '#!/bin/bash\nexec python3 -c "import sys; from jen_composer.cli.main import main; sys.argv[0]=\x27jen-composer\x27; sys.exit(main())" "$@"\n' > /tmp/jc
chmod +x /tmp/jc
JC() { /tmp/jc "$@"; }
