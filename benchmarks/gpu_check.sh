#!/usr/bin/env bash
# The GPU check of docs/performance.md, in one go (about 5 minutes on an H100/H200-class card; limit 8).
#
# A bare GPU machine with Python 3.12 and PyTorch lacks PyAV (video decoding) and cannot reach a package
# registry. So, first, on a machine that can (the repository root, any OS):
#
#     bash benchmarks/gpu_check.sh fetch-wheels     # downloads the PyAV wheel into .whl/ (git-ignored, ~35 MB)
#
# then on the GPU machine, from the repository root (with the device tool: carry [".whl"]):
#
#     bash benchmarks/gpu_check.sh                  # log: ${OUT:-gpu-check-out}/gpu_check.log
#
# What it does: installs .whl/*.whl into a private folder when PyAV is missing, makes ferbench importable
# with its plugin entry points (no build, no network), prints the device, generates SynthFER, runs
# benchmarks/throughput.py on the three combinations of issue 15 (bf16; eager, then compiled) and a
# short real training run, each under a timeout. GPU_CHECK_SMOKE=1 runs the same steps at toy sizes
# (what was tried on a CPU-only machine before any GPU was available).
set -uo pipefail
cd "$(dirname "$0")/.."

AV_VERSION="18.1.0"
if [[ "${1:-}" == "fetch-wheels" ]]; then
  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl "av==${AV_VERSION}"
  exit $?
fi

OUTDIR="${OUT:-gpu-check-out}"
mkdir -p "$OUTDIR"
exec > >(tee "$OUTDIR/gpu_check.log") 2>&1
START=$(date +%s)
SITE="${TMPDIR:-/tmp}/ferbench-gpu-site"
CACHE="${TMPDIR:-/tmp}/ferbench-gpu-cache"
mkdir -p "$SITE" "$CACHE"
export PYTHONUNBUFFERED=1 FERBENCH_CACHE="$CACHE"

step() { echo; echo "=== $1 ($(( $(date +%s) - START )) s)"; }

step "install"
if ! python3 -c "import av" 2>/dev/null; then
  ls .whl/*.whl >/dev/null 2>&1 || { echo "PyAV is missing and .whl/ holds no wheels: run 'bash benchmarks/gpu_check.sh fetch-wheels' where pip can reach a registry"; exit 2; }
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl || exit 2
fi
# ferbench from this checkout, with the entry points of pyproject.toml (what 'pip install -e .' would register)
python3 - "$SITE" <<'PY' || exit 2
import pathlib, sys, tomllib
site = pathlib.Path(sys.argv[1])
project = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]
info = site / f"ferbench-{project['version']}.dist-info"
info.mkdir(parents=True, exist_ok=True)
(info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: ferbench\nVersion: {project['version']}\n")
groups = project["entry-points"]
(info / "entry_points.txt").write_text("".join(
    f"[{g}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) for g, eps in groups.items()))
PY
export PYTHONPATH="$SITE:$PWD:$PWD/plugins${PYTHONPATH:+:$PYTHONPATH}"
python3 -c "import ferbench, av, torch; print('ferbench', ferbench.__file__, '| av', av.__version__, '| torch', torch.__version__)" || exit 2

step "device"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>/dev/null || echo "no nvidia-smi"
python3 -c "import torch; print('cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-', '| cpus', __import__('os').cpu_count())"
date -u +"date %Y-%m-%dT%H:%M:%SZ"

if [[ "${GPU_CHECK_SMOKE:-0}" == "1" ]]; then
  DATASET=synthetic-tiny; STEPS="--steps 2 --warmup 1 --infer-clips 16"; EPOCHS=1
  COMBOS=(--combo "rgb+small-cnn+mean")
  CEFL=(--combo "rgb[sampling=clips,size=64]+resnet18+eian")
  LIMITS=(900 900 900 900)  # a CPU is slow; the limits below are for the GPU
else
  DATASET=synthetic; STEPS="--steps 30 --warmup 5 --infer-clips 2048"; EPOCHS=5
  COMBOS=(--combo "rgb+small-cnn+mean" --combo "residual+ifercv-cnn+lstm" --combo "rgb[sampling=clips,size=224]+resnet18+eian")
  CEFL=(--combo "rgb[sampling=clips,size=224]+resnet18+eian")
  LIMITS=(60 200 120 60)  # seconds: generation, eager throughput, compiled throughput, training run
fi

step "generate SynthFER ($DATASET)"
timeout "${LIMITS[0]}" python3 -m ferbench folds --dataset "$DATASET" --dataset-opt workers=8 --out "$CACHE/folds.json"

step "throughput, bf16, eager"
timeout "${LIMITS[1]}" python3 benchmarks/throughput.py --dataset "$DATASET" $STEPS "${COMBOS[@]}"

step "throughput, bf16, torch.compile (backbone + aggregator)"
timeout "${LIMITS[2]}" python3 benchmarks/throughput.py --dataset "$DATASET" $STEPS "${CEFL[@]}" --train-opt compile=true

step "short training run (real: fold 0, $EPOCHS epochs, resnet18)"
timeout "${LIMITS[3]}" python3 -m ferbench run --dataset "$DATASET" --backbone resnet18 --epochs "$EPOCHS" --folds 0 --no-progress \
  --output-dir "$CACHE/run" --force

step "done"
