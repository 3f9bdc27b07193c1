#!/bin/bash
# Train the three spectral-autoencoder variants of docs/results/autoencoder_bench.md side by side on
# one lent GPU machine, export them and score each round trip. Run in the repository root there, with
# the subset (scripts/gpu/make_subset.py -> .gpudata/bench-sub) and the wheels the machine lacks
# (.whl: omegaconf, antlr4-python3-runtime, soundfile, cffi, pycparser, soxr, librosa, auraloss,
# pooch, platformdirs, decorator, audioread, pretty_midi, mido, importlib_resources) carried along.
#   bash scripts/gpu/train_autoencoders.sh [steps=5770]
# Exports: runs/export/gpu-ae-v{1,2,3}; logs: /tmp/jlogs. On 2026-11-26 one H100 took 367 s for the
# three trainings of 5770 steps (0.064 s/step each, side by side).
set -u
STEPS=${1:-5770}; L=/tmp/jlogs; mkdir -p $L
source scripts/gpu/setup.sh  # wheels -> /tmp/site, data/bench-sub-gpu, JC
REC=experiments/autoencoder/bench_spectral_gpu.yaml
declare -A VAR=([v1]="autoencoder.latent_dim=64 autoencoder.base_channels=32" [v2]="autoencoder.base_channels=32" [v3]="")
for v in v1 v2 v3; do JC fit $REC name=gpu-ae-$v ${VAR[$v]} data.root=data/bench-sub-gpu trainer.progress_bar=false \
    trainer.max_steps=$STEPS trainer.val_check_interval=$STEPS > $L/train-$v.log 2>&1 & done; wait
for v in v1 v2 v3; do (
  JC autoencoder export --ckpt "$(ls runs/gpu-ae-$v/*/checkpoints/best-step*.ckpt | head -1)" --out runs/export/gpu-ae-$v &&
  OMP_NUM_THREADS=5 JC autoencoder roundtrip --autoencoder runs/export/gpu-ae-$v --data data/bench-sub-gpu --clips 12 &&
  OMP_NUM_THREADS=5 JC autoencoder evaluate --autoencoder runs/export/gpu-ae-$v --data data/bench-sub-gpu --split test
  ) > $L/eval-$v.log 2>&1 & done; wait
for v in v1 v2 v3; do echo "== $v"; grep -E "^\||lag-1|within" $L/eval-$v.log; done
