#!/usr/bin/env bash
# Everything hwprof checks on a lent GPU, in one go of at most about eight minutes, what no GPU has measured
# yet first: issue 14's zoo models in float16, eager and compiled, and the spread between processes; then
# what an H200 measured on 2026-12-04 (BENCHMARKS.md), to check another GPU or driver: NVML against the real
# driver (bench/nvml_validation.py), the public energy API and `hwprof run` (bench/gpu_energy_api.py), zoo
# networks in float32/float16/bfloat16 with power and energy, a network with its layers, torch.compile and
# channels-last, the zoo's network rows as a fleet board for `fit --prior`, and the tests that change when
# CUDA is present. Each step has its own time limit and is skipped when too
# little of the budget (BUDGET_S) is left; every figure and dataset lands in $OUT (datasets in one data.tar.gz).
#
#     OUT=/some/folder bash bench/gpu_session.sh [cuda:0 [STEP...]]
#
# Naming steps runs only those (e.g. `cuda:0 nvml_validation zoo_bert`).
#
# Runs from a plain checkout: hwprof is imported from the working tree (no install needed).
set -u
DEVICE=${1:-cuda:0}
ONLY=" ${*:2} "
OUT=${OUT:-$(mktemp -d)}
BUDGET_S=${BUDGET_S:-500}
cd "$(dirname "$0")/.."
[ -e hwprof/drivers ] || ln -s ../drivers hwprof/drivers
[ -e hwprof/sample_models ] || ln -s ../sample_models hwprof/sample_models
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
PY=${PYTHON:-python3}
DATA=$OUT/data
mkdir -p "$DATA"

step() {  # step NAME LIMIT_S COMMAND...: run it within LIMIT_S, or skip it when the budget cannot hold it
    local name=$1 limit=$2 started=$SECONDS
    shift 2
    if [[ "$ONLY" != "  " && "$ONLY" != *" $name "* ]]; then
        return
    fi
    if ((SECONDS + limit > BUDGET_S)); then
        echo "=== $name: skipped ($SECONDS s used of $BUDGET_S, it needs up to $limit)"
        return
    fi
    echo "=== $name (limit ${limit} s) at $SECONDS s"
    timeout -k 5 "$limit" "$@"
    echo "=== $name: exit $? after $((SECONDS - started)) s"
    tar czf "$OUT/data.tar.gz" -C "$OUT" data 2>/dev/null
}

zoo() {  # zoo NAME LIMIT_S ARGS...: bench/zoo_models.py on the GPU, its datasets kept
    local name=$1 limit=$2
    shift 2
    step "$name" "$limit" "$PY" bench/zoo_models.py --device "$DEVICE" --keep "$DATA/$name" --out "$OUT/$name.json" "$@"
}

{
    step environment 30 bash -c "nvidia-smi; $PY -c 'import torch, transformers, timm, torchvision, pynvml, hwprof; \
print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0), transformers.__version__, \
timm.__version__, torchvision.__version__)'"
    # not yet measured on a GPU (2026-12-04): issue 14's four zoo models in float16, eager and compiled,
    # and how far one network's latency moves between processes when the host holds the GPU back
    zoo issue14_fp16 90 --models torchvision:resnet50 timm:convnext_tiny hf:bert hf:llama --dtypes float16 \
        --no-layers --batch-size 8 --power none --max-time 2
    zoo issue14_compile 240 --models torchvision:resnet50 timm:convnext_tiny hf:bert hf:llama --dtypes float16 \
        --compile --no-layers --batch-size 8 --power none --max-time 2
    step processes 90 "$PY" -m hwprof measure torchvision:resnet50 resnet18 --device "$DEVICE" --processes 3 \
        --no-layers --batch-size 1 --max-time 2 --power none --sweep-share 0 --quiet --out "$DATA/processes.parquet"
    # measured on an H200 on 2026-12-04 (BENCHMARKS.md): run again to check another GPU or driver
    step nvml_validation 220 "$PY" bench/nvml_validation.py --device "$DEVICE" --json "$OUT/nvml_validation.json"
    step energy_api 45 "$PY" bench/gpu_energy_api.py --device "$DEVICE" --json "$OUT/gpu_energy_api.json"
    step tests 45 "$PY" -m pytest -q -x -n 8 -p no:cacheprovider -m "not slow" tests/measuring tests/drivers \
        tests/cli/test_measure_cli.py
    zoo zoo_dtypes 110 --models torchvision:resnet50 --dtypes float32 float16 bfloat16 --no-layers \
        --batch-size 1,32 --power nvml --max-time 2
    zoo zoo_compile 100 --models torchvision:resnet50 --dtypes float16 --compile --no-layers --batch-size 32 \
        --power nvml --max-time 2
    step fleet_board 50 "$PY" -m hwprof measure alexnet mlp mlp_large mobilenet_v2 mobilenet_v2_050 resnet18 resnet34 \
        resnet50 squeezenet1_0 squeezenet1_1 vgg11 vgg13 vgg16 vit_small_patch vit_tiny --device "$DEVICE" \
        --no-layers --batch-size 1,4 --max-time 1 --power none --sweep-share 0 --quiet --out "$DATA/zoo_gpu.parquet"
    zoo zoo_nhwc 30 --models torchvision:resnet50 --dtypes float16 --channels-last --no-layers --batch-size 32 \
        --power nvml --max-time 2
    zoo zoo_bert 100 --models hf:bert --dtypes float32 float16 bfloat16 --no-layers --batch-size 8 --power nvml \
        --max-time 2
    zoo zoo_layers 40 --models torchvision:resnet50 --dtypes float16 --batch-size 32 --power none --max-time 1
} 2>&1 | tee "$OUT/gpu_session.log"
