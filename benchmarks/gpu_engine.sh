#!/usr/bin/env bash
# GPU run of the engine benchmark (issue 12, point 8), prepared for one device call of under 9 minutes.
#
# Runs (a) TRL DPOTrainer on all pairs, (b) ours without prefix sharing and (c) ours with prefix
# sharing + token budget on the 0.5B random-init Llama (hidden 1536, 16 layers) in bf16, the short
# prompts also in 4-bit nf4, a token-budget sweep for throughput/MFU, and ../shared/device/trl_anchor.py
# in the same call (so the TRL anchor is measured side by side). Writes Markdown and logs under $OUT.
#
# Before the call, here (the GPU machine has no network and lacks trl, datasets, bitsandbytes):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
#     --platform manylinux2014_x86_64 -d .whl trl==1.16.0 datasets==5.2.0 bitsandbytes==0.50.2 dill multiprocess
#   cp ../shared/device/trl_anchor.py .whl/
# then: run(command="bash benchmarks/gpu_engine.sh", carry=[".whl"], timeout_s=560)
# and paste $OUT/engine_gpu*.md into docs/benchmarks/engine.md ("GPU" section).
#
# DRY=1 bash benchmarks/gpu_engine.sh checks the plumbing on a CPU in a minute or two (tiny sizes).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_engine}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 TQDM_DISABLE=1
unset DJANGO_SETTINGS_MODULE
PY=${PY:-python3}
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
ANCHOR=${ANCHOR:-.whl/trl_anchor.py}
[ -f "$ANCHOR" ] || ANCHOR=/work/shared/device/trl_anchor.py  # a developer checkout beside ../shared

if [ "${DRY:-0}" = 1 ]; then
  BENCH=(--device cpu --model-size small --n-prompts 4 --n-prompts-long 2 --ks 4 --runs 1)
  QUANT4=(--quantization none)  # bitsandbytes' CPU 4-bit works, but the dry run only checks the plumbing
  SWEEP=(--sweep-tokens 1024 2048)
  ANCHOR_ENV=(SMALL=1)
  LIMIT=600
else
  BENCH=(--device cuda --model-size 0.5b --n-prompts 32 --n-prompts-long 8 --ks 4 8 --runs 1)
  QUANT4=(--quantization 4bit)
  SWEEP=(--sweep-tokens 16384 32768 65536 131072)
  ANCHOR_ENV=()
  LIMIT=240
fi
nvidia-smi --query-gpu=name,memory.total --format=csv 2>/dev/null | tee "$OUT/gpu.txt"

# 1. bf16: (a), (b), (c) on short and long prompts at K = 4 and 8, then the budget sweep
timeout $LIMIT $PY -m benchmarks.bench_engine "${BENCH[@]}" --quantization none "${SWEEP[@]}" \
  --out "$OUT/engine_gpu_bf16.md" > "$OUT/bench_bf16.log" 2>&1
echo "bf16 bench: exit $?"
# 2. 4-bit nf4 (QLoRA): short prompts only, to stay within the call
timeout $((LIMIT / 2)) $PY -m benchmarks.bench_engine "${BENCH[@]}" --data-kinds short "${QUANT4[@]}" \
  --out "$OUT/engine_gpu_4bit.md" > "$OUT/bench_4bit.log" 2>&1
echo "4-bit bench: exit $?"
# 3. the TRL anchor of ../shared/GPU.md, same machine, same call
for k in 4 8; do
  env "${ANCHOR_ENV[@]}" K=$k N=16 OUT=/tmp/anchor timeout $((LIMIT / 3)) $PY "$ANCHOR" > "$OUT/anchor_k$k.jsonl" 2> "$OUT/anchor_k$k.err"
  echo "anchor K=$k: exit $?"
done
# 4. a 2-process step through each accelerate config the launch form offers (issue 22: DDP, FSDP, and
#    DeepSpeed ZeRO-2/3 where deepspeed is installed), or a record that this machine could not run it
GPUS=$(nvidia-smi -L 2>/dev/null | grep -c "^GPU")
if [ "$GPUS" -ge 2 ]; then
  $PY -m training.engine make-tiny-model /tmp/ddp-tiny > /dev/null
  $PY -c "from training.engine.synthetic import vowel_ranked_records as v; import json; open('/tmp/ddp.jsonl','w').write(''.join(json.dumps(r)+chr(10) for r in v(16, 4)))"
  for config in ddp fsdp deepspeed-zero2 deepspeed-zero3; do
    if [[ $config == deepspeed-* ]] && ! $PY -c "import deepspeed" 2> /dev/null; then
      echo "2-process $config step: not run, deepspeed is not installed here" | tee -a "$OUT/multi_gpu.txt"
      continue
    fi
    timeout 240 $PY -m accelerate.commands.launch --config_file training/engine/accelerate/$config.yaml --num_processes 2 \
      -m training.engine train --data /tmp/ddp.jsonl --model /tmp/ddp-tiny --output /tmp/out-$config --max_steps 2 \
      --per_device_train_batch_size 2 --logging_steps 1 --validation_fraction 0.25 > "$OUT/${config}_2gpu.log" 2>&1
    echo "2-process $config step on $GPUS GPUs: exit $?" | tee -a "$OUT/multi_gpu.txt"
  done
else
  echo "2-process steps (ddp, fsdp, deepspeed-zero2/3): not run, this machine has $GPUS GPU(s) (needs 2+)" | tee "$OUT/multi_gpu.txt"
fi
tail -n 5 "$OUT"/bench_*.log
cat "$OUT"/anchor_k*.jsonl
