#!/usr/bin/env bash
# The one prepared check for a lent GPU machine (benchmarks/device/README.md). Run from the
# repository root on the device, after `make device-prep` here, with .tools/device carried:
#
#   bash benchmarks/device/check.sh [DEADLINE_SECONDS]   # default 540; output under $OUT
#
# In order of priority (a step that would not fit before the deadline is skipped):
# 1. finds the CUDA PJRT plugin of the image's jax-cuda13-pjrt package;
# 2. writes the Hugging Face oracle fixture (benchmarks/device/hf_fixture.py) and runs the gpt2
#    tests against it on the go backend (the fixture then gets committed as gpt2/testdata/hf-tiny);
# 3. runs actadd-bench on XLA CUDA: forward + premium on gpt2 and gpt2-xl shapes, generation and
#    the sweep on gpt2;
# 4. runs the gpt2 tests and the key ActAdd tests on XLA CUDA (ACTADD_TEST_BACKEND=selected);
# 5. generation and the sweep on a gpt2-xl shape.
# Every step has a time limit and goes on after a failure; summary.txt says what happened.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/device-out}
mkdir -p "$out"
bin=$PWD/.tools/device
log() { echo "device-check: $*" | tee -a "$out/summary.txt"; }
deadline=${1:-540}
step() { # step NAME SECONDS CMD...: runs CMD with a time limit, output to $out/NAME.txt
  local name=$1 secs=$2; shift 2
  local left=$((deadline - SECONDS - 5))
  if [ "$left" -lt 30 ]; then log "$name: skipped ($left s left)"; return; fi
  [ "$secs" -gt "$left" ] && secs=$left
  local t0=$SECONDS
  timeout "$secs" "$@" >"$out/$name.txt" 2>&1
  local rc=$?
  log "$name: rc=$rc in $((SECONDS - t0)) s"
  tail -3 "$out/$name.txt" | sed 's/^/    /' | tee -a "$out/summary.txt"
}
export GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1 GOMLX_NO_AUTO_INSTALL=1

(nvidia-smi -L; nproc; free -g) >"$out/machine.txt" 2>&1
log "machine: $(head -1 "$out/machine.txt")"
for f in "$bin"/*.gz; do gunzip -kf "$f"; done
chmod +x "$bin"/actadd-bench "$bin"/*.test

plugin=$(python3 - <<'PY'
import glob, os, site
dirs = site.getsitepackages() + [site.getusersitepackages()]
found = []
for d in dirs:
    found += glob.glob(os.path.join(d, "jax_plugins", "*cuda*", "*.so"))
print(sorted(found)[0] if found else "")
PY
)
pip show -f jax-cuda13-pjrt >"$out/plugin.txt" 2>&1
log "CUDA PJRT plugin: ${plugin:-none found}"
if [ -n "${DEVICE_CHECK_BACKEND:-}" ]; then # dry run of this script elsewhere, e.g. "go"
  log "DEVICE_CHECK_BACKEND=$DEVICE_CHECK_BACKEND: using it instead of the plugin"
  export GOMLX_BACKEND=$DEVICE_CHECK_BACKEND
else
  [ -n "$plugin" ] || exit 1
  export GOMLX_BACKEND="xla:$plugin"
fi

step hf-fixture 90 python3 benchmarks/device/hf_fixture.py "$out/hf-tiny"
if [ -f "$out/hf-tiny/oracle.safetensors" ]; then
  rm -rf gpt2/testdata/hf-tiny && mkdir -p gpt2/testdata && cp -r "$out/hf-tiny" gpt2/testdata/hf-tiny
fi
(cd gpt2 && step gpt2-tests-go 60 "$bin/gpt2.test" -test.v -test.count=1)
step bench-gpt2-xl-forward 240 "$bin/actadd-bench" -python= -models gpt2:5,gpt2-xl:3 -gen-model gpt2 -out "$out"
(cd gpt2 && export ACTADD_TEST_BACKEND=selected && step gpt2-tests-xla 90 "$bin/gpt2.test" -test.v -test.count=1)
(cd actadd && export ACTADD_TEST_BACKEND=selected && step actadd-tests-xla 120 "$bin/actadd.test" -test.v -test.count=1 \
  -test.run 'SteeredLogitsMatchReference|ZeroCoefficientIsUnsteered|CachedGenerationEqualsRecomputation|MixedBatchEqualsRowsAlone|SweepCompilesAtMostTwoPrograms')
step bench-gpt2-xl-generation 180 "$bin/actadd-bench" -python= -models none -gen-model gpt2-xl -sweep-tokens 2 -out "$out"
log "done in $SECONDS s; results in $out"
