#!/usr/bin/env bash
# Top-1 and FP32 agreement of every softmax × GELU mode on the shared ViT-Ti (issue 5's table).
# Usage: bench/accuracy_modes.sh [INTVIT_BINARY] [SHARED_DIR] [WORK_DIR]
# Each configuration: `intvit quantize` (calibration on the first 100 images) then `intvit eval`
# on all 500; prints one markdown row per configuration (~1.5 min each on 1 core).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/release/intvit}
shared=${2:-$root/../shared}
work=${3:-$(mktemp -d)}
mkdir -p "$work"
model=$shared/models/vit_tiny_patch16_224
images=$shared/data/imagenet-sample
[[ -x $bin ]] || { echo "no intvit binary at $bin (build first)" >&2; exit 2; }
[[ -d $model && -d $images ]] || { echo "shared ViT-Ti or images missing under $shared" >&2; exit 2; }

configs=()
for softmax in lut iexp shiftmax; do
  for gelu in lut igelu shiftgelu; do configs+=("--softmax $softmax --attn-bits 16 --gelu $gelu"); done
  configs+=("--softmax $softmax --attn-bits 8")
done
for bits in 8 4; do
  for gelu in lut igelu shiftgelu; do configs+=("--softmax log2 --attn-bits $bits --gelu $gelu"); done
done
configs+=("--softmax log2 --attn-bits 4 --log2-renorm off")

echo "| quantize options | top-1 | top-5 | agreement with FP32 | FP32 top-1 |"
echo "|---|---|---|---|---|"
for i in "${!configs[@]}"; do
  opts=${configs[$i]}
  out=$work/config_$i
  # shellcheck disable=SC2086  # opts is a list of flags
  "$bin" quantize --model "$model" --calib "$images" --calib-count 100 $opts -o "$out" > "$out.quantize.log" 2>&1
  "$bin" eval --model "$out" --images "$images" --labels "$images/labels.csv" --fp32 "$model" --json > "$out.json" 2> /dev/null
  python3 - "$opts" "$out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[2]))
print(f"| `{sys.argv[1]}` | {d['top1']:.1f} | {d['top5']:.1f} | {d['fp32_agreement']:.1f} | {d['fp32_top1']:.1f} |")
PY
done
