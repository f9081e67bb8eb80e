#!/usr/bin/env bash
# The paper-scale clock measurements of the README, as run on one GPU with the JAX backend:
#   1. benchmarks/bench_clock_training.py: epoch time of the Table 7 classifier on 16,200
#      training clocks of 150x150, the project's training path against a plain model.fit;
#   2. experiments/clock_paper_scale.py: four approaches trained side by side for a fixed
#      wall-clock budget on 18,000 generated clocks (the pipeline's split), scored on the test split:
#      the report's multihead, our multihead_angle, the recipe multihead_angle_curriculum (the best
#      so far) and the same with quarter turns in the curriculum's last phase (not yet measured).
# The README's numbers came from this script at commit 5b9c972, where the curriculum was a
# command-line tag (NAME@curriculum) with the same phases and threshold as the recipe key now.
# Usage: experiments/gpu_paper_scale.sh OUT_DIR [MINUTES]
# Needs keras (and jax with a GPU); nothing else beyond numpy, pandas, matplotlib, pillow, pyyaml, tqdm.
set -u
OUT_DIR=${1:?usage: $0 OUT_DIR [MINUTES]}
MINUTES=${2:-5}
PER_MINUTE=${PER_MINUTE:-25} SIZE=${SIZE:-150}   # smaller for a smoke test
HERE=$(cd "$(dirname "$0")/.." && pwd)
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1 PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$HERE/src"
PY=${PYTHON:-python3}
mkdir -p "$OUT_DIR"
nvidia-smi -L 2>/dev/null | tee "$OUT_DIR/device.txt"
$PY -c "import keras, jax; print('keras', keras.__version__, 'jax', jax.__version__, jax.devices())" \
    | tee -a "$OUT_DIR/device.txt" || exit 1

timeout 240 $PY "$HERE/benchmarks/bench_clock_training.py" --per-minute "$PER_MINUTE" --size "$SIZE" --epochs 3 \
    2>&1 | grep -v "^Epoch\|step -" | tee "$OUT_DIR/bench_clock_training.txt"

WORK=/tmp/clock_paper_scale
rm -rf "$WORK"
timeout $(( ${MINUTES%.*} * 60 + 180 )) $PY "$HERE/experiments/clock_paper_scale.py" --out "$WORK" \
    --minutes "$MINUTES" --halving 40 --per-minute "$PER_MINUTE" --size "$SIZE" \
    --recipe 'curriculum_turns={"kind": "multihead_angle", "preset": "final", "conv_filters": 128, "lr_halving_epochs": 40, "curriculum": {"quarter_turns": true}}' \
    multihead multihead_angle multihead_angle_curriculum curriculum_turns
tar czf "$OUT_DIR/paper_scale.tar.gz" -C "$WORK" --exclude=data --exclude='*.keras' .
