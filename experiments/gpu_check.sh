#!/usr/bin/env bash
# The GPU checks of the scale-and-speed work, as one script for a machine with a CUDA GPU:
#   bash experiments/gpu_check.sh            (writes its logs under ${OUT:-logs/gpu_check})
# 1. the benchmark at batch 256 with torch.compile (bf16-mixed and channels_last rows included);
# 2. end-to-end training img/s under each DataLoader setting (workers, persistence, prefetch,
#    pinned memory) on the GPU;
# 3. short real runs with the GPU-only data paths: synthetic images rendered on the GPU, and
#    JPEGs decoded and augmented on the GPU (nvJPEG), each checked to complete.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-logs/gpu_check}"
mkdir -p "$out"
python -m pip install --quiet -e . 2>&1 | tail -1 || true
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$out/gpu.txt"
python experiments/benchmark.py --batches 256 --steps 10 --compile --workers 4 8 \
  | tee "$out/benchmark.md"
python experiments/loader_settings.py --repeats 1 trainer=gpu \
  | tee "$out/loader_settings.md"
python train.py trainer=gpu data.render_on=device trainer.max_epochs=2 \
  paths.log_dir="$out/logs" 2>&1 | tail -3 | tee "$out/render_on_device.txt"
python -c "import sys, pathlib; from alexnet.data.jpeg_folder import write_jpeg_folder as w
w(pathlib.Path(sys.argv[1]), 4, 64, 16)" "$out/jpegs"
python train.py trainer=gpu data=imagefolder data.root="$out/jpegs" data.decode=device \
  trainer.max_epochs=1 paths.log_dir="$out/logs" 2>&1 | tail -3 | tee "$out/decode_on_device.txt"
grep -h '"status"' "$out"/logs/train/runs/*/metrics.json
