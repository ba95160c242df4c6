#!/usr/bin/env bash
# Rebuild the shipped model from scratch with the project's own commands:
# train -> export -> evaluate on Testing -> export again with the test metrics embedded -> report;
# then the int8 copy (braintumor quantize) the same way: quantize -> evaluate -> quantize with its metrics;
# then the orientation check (braintumor orientation), one network grafted into both files.
# Usage: bash scripts/train_shipped_model.sh [RUN_DIR]     (about 90 min on a 2-core CPU; RUN_DIR must not hold a run)
set -euo pipefail
DATA=${BRAINTUMOR_DATA:-../shared/datasets/brain-tumor-mri}
RUN=${1:-runs/tumornet-s-160}
MODEL=models/braintumor-tumornet-s.onnx
INT8=models/braintumor-tumornet-s-int8.onnx

# --no-group-duplicates: the shipped run's validation split, drawn before near duplicates were grouped
# (docs/TRAINING.md, "The validation split and near duplicates")
braintumor train --data "$DATA" --out "$RUN" --image-size 160 --epochs 100 --no-group-duplicates
# The network trains without background subtraction and is served with it, with OOD statistics also fitted on
# one augmented copy of each training image (docs/RESULTS.md, "Background subtraction"): calibrate adds both.
SERVE=(--background-percentile 1 --ood-augment 1)
braintumor export "$RUN" --out "$RUN/model.onnx" --model-version 1.0.0
braintumor calibrate "$RUN/model.onnx" --run "$RUN" "${SERVE[@]}"
braintumor evaluate --model "$RUN/model.onnx" --data "$DATA" --split Testing --out "$RUN/eval" --run "$RUN"
braintumor export "$RUN" --out "$MODEL" --metrics "$RUN/eval/metrics.json" --model-version 1.0.0
braintumor calibrate "$MODEL" --run "$RUN" "${SERVE[@]}"
braintumor evaluate --model "$MODEL" --data "$DATA" --split Testing --out docs/evaluation --run "$RUN"
cp "$RUN/metrics.jsonl" models/training-log.jsonl
cp "$RUN/config.json" models/training-config.json
cp "$RUN/split.json" models/split.json   # the split both files were fitted on: `--run models` reuses it
braintumor quantize "$MODEL" --run "$RUN" --out "$RUN/int8.onnx"
braintumor evaluate --model "$RUN/int8.onnx" --data "$DATA" --split Testing --out "$RUN/eval-int8" --run "$RUN"
braintumor quantize "$MODEL" --run "$RUN" --out "$INT8" --metrics "$RUN/eval-int8/metrics.json"
# Slices on their side or upside down are refused by a small network fitted on the same split (docs/RESULTS.md,
# "Slices on their side or upside down"); the evaluations above were of the files without it.
braintumor orientation "$MODEL" "$INT8" --run "$RUN"
braintumor evaluate --model "$MODEL" --data "$DATA" --split Testing --out docs/evaluation --run "$RUN"
