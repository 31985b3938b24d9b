#!/usr/bin/env bash
# The one prepared check for a lent GPU machine (benchmarks/device/README.md). Run from the
# repository root on the device, after `make device-prep` here, with .tools/device carried:
#
#   bash benchmarks/device/check.sh [DEADLINE_SECONDS]   # default 440; run's timeout_s 490
#
# Everything it writes is packed into $OUT/device-check.tgz at the end, next to a copy of
# summary.txt (the device tool returns only a handful of files from $OUT).
#
# In order of priority (a step is skipped when less than half its time limit is left before
# the deadline: a cut actadd-bench writes no JSON, only its log):
# 1. finds the CUDA PJRT plugin of the image's jax-cuda13-pjrt package and sets up the CUDA
#    environment jax would (NVIDIA pip libraries, libdevice, ptxas);
# 2. with DEVICE_CHECK_FIXTURE=1, rewrites the Hugging Face oracle fixture
#    (benchmarks/device/hf_fixture.py; committed as gpt2/testdata/hf-tiny); then runs the gpt2
#    tests (the oracle among them) on the go backend;
# 3. checks that the Go binaries really run on XLA CUDA (else: jax's view of the GPU, ldd of the
#    plugin, and stop), then runs actadd-bench on XLA CUDA with the PyTorch reference on the
#    same GPU: forward + premium on gpt2 and gpt2-xl shapes, generation and the sweep on gpt2;
# 4. sampled generation (200 × 40) on a gpt2-xl shape, without greedy decoding and the sweep
#    (measured on gpt2-xl in the first run);
# 5. runs the gpt2 tests and the key ActAdd tests on XLA CUDA (ACTADD_TEST_BACKEND=selected);
# 6. forward on gpt2 and gpt2-xl shapes with TF32 matmuls (GOMLX_BACKEND …,tf32: what exact
#    float32, our default, costs), without PyTorch (step 3 timed it).
# Every step has a time limit and goes on after a failure; summary.txt says what happened.
set -uo pipefail
cd "$(dirname "$0")/../.."
final=${OUT:-/tmp/device-out}
out=$(mktemp -d /tmp/device-check.XXXXXX)
mkdir -p "$final"
bin=$(mktemp -d /tmp/device-bin.XXXXXX) # unpacked here: .tools/device must stay small to carry
trap 'tar czf "$final/device-check.tgz" -C "$out" . && cp "$out/summary.txt" "$final/"; rm -rf "$bin"' EXIT
log() { echo "device-check: $*" | tee -a "$out/summary.txt"; }
deadline=${1:-440}
step() { # step NAME SECONDS CMD...: runs CMD with a time limit, output to $out/NAME.txt
  local name=$1 secs=$2; shift 2
  local left=$((deadline - SECONDS - 5))
  if [ "$left" -lt 30 ] || [ "$left" -lt $((secs / 2)) ]; then log "$name: skipped ($left s left of the $secs it needs)"; return; fi
  [ "$secs" -gt "$left" ] && secs=$left
  local t0=$SECONDS
  timeout "$secs" "$@" >"$out/$name.txt" 2>&1
  local rc=$?
  log "$name: rc=$rc in $((SECONDS - t0)) s"
  tail -3 "$out/$name.txt" | sed 's/^/    /' | tee -a "$out/summary.txt"
}
export GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1 GOMLX_NO_AUTO_INSTALL=1

(nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nproc; free -g
 pip list 2>/dev/null | grep -i -E "^(jax|torch|transformers|nvidia|safetensors)") >"$out/machine.txt" 2>&1
log "machine: $(head -1 "$out/machine.txt")"
for f in .tools/device/*.gz; do gunzip -c "$f" >"$bin/$(basename "$f" .gz)"; done
chmod +x "$bin"/actadd-bench "$bin"/*.test

# The plugin, and the CUDA environment that jax sets up at import for it: the NVIDIA pip
# packages' libraries (LD_LIBRARY_PATH), libdevice (XLA's --xla_gpu_cuda_data_dir) and ptxas.
plugin= cuda_libs= cuda_bins= cuda_data=
command -v python3 >/dev/null || log "no python3 on PATH: cannot look for the plugin in site-packages"
eval "$(python3 - <<'PY'
import glob, os, shlex, site
dirs = site.getsitepackages() + [site.getusersitepackages()]
plugins, libs, bins, data = [], [], [], ""
for d in dirs:
    plugins += glob.glob(os.path.join(d, "jax_plugins", "*cuda*", "*.so"))
    libs += glob.glob(os.path.join(d, "nvidia", "*", "lib"))
    for c in sorted(glob.glob(os.path.join(d, "nvidia", "*"))):
        if not data and os.path.isdir(os.path.join(c, "nvvm", "libdevice")):
            data = c
        if os.path.exists(os.path.join(c, "bin", "ptxas")):
            bins.append(os.path.join(c, "bin"))
print("plugin=" + shlex.quote(sorted(plugins)[0] if plugins else ""))
print("cuda_libs=" + shlex.quote(":".join(sorted(libs))))
print("cuda_bins=" + shlex.quote(":".join(bins)))
print("cuda_data=" + shlex.quote(data))
PY
)"
pip show -f jax-cuda13-pjrt >"$out/plugin.txt" 2>&1
log "CUDA PJRT plugin: ${plugin:-none found}; libdevice in: ${cuda_data:-not found}; ptxas in: ${cuda_bins:-not found}"
[ -n "$cuda_libs" ] && export LD_LIBRARY_PATH="$cuda_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -n "$cuda_bins" ] && export PATH="$cuda_bins:$PATH"
[ -n "$cuda_data" ] && export XLA_FLAGS="--xla_gpu_cuda_data_dir=$cuda_data${XLA_FLAGS:+ $XLA_FLAGS}"
export GOPJRT_CUDA_CHECKS=0 # go-xla's check looks for ../nvidia next to the plugin; set up above
if [ -n "${DEVICE_CHECK_BACKEND:-}" ]; then # dry run of this script elsewhere, e.g. "go"
  log "DEVICE_CHECK_BACKEND=$DEVICE_CHECK_BACKEND: using it instead of the plugin"
  export GOMLX_BACKEND=$DEVICE_CHECK_BACKEND
else
  if [ -z "$plugin" ]; then
    log "no CUDA PJRT plugin under site-packages/jax_plugins: diagnostics only"
    step jax-diag 60 python3 -c "import jax; print(jax.__version__, jax.devices())"
    exit 1
  fi
  export GOMLX_BACKEND="xla:$plugin"
fi
# The PyTorch reference runs on the GPU when torch sees one.
torch_flags=(-python=)
if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" >>"$out/machine.txt" 2>&1; then
  torch_flags=(-python "$(command -v python3)" -torch-device cuda)
fi
log "PyTorch reference: ${torch_flags[*]}"

if [ -n "${DEVICE_CHECK_FIXTURE:-}" ]; then
  step hf-fixture 90 python3 benchmarks/device/hf_fixture.py "$out/hf-tiny"
  if [ -f "$out/hf-tiny/oracle.safetensors" ]; then
    rm -rf gpt2/testdata/hf-tiny && mkdir -p gpt2/testdata && cp -r "$out/hf-tiny" gpt2/testdata/hf-tiny
  fi
fi
(cd gpt2 && step gpt2-tests-go 60 "$bin/gpt2.test" -test.v -test.count=1)
# Is XLA CUDA what the Go binaries actually use? (backend.New falls back to go, with one line.)
(cd gpt2 && export ACTADD_TEST_BACKEND=selected && step xla-probe 90 "$bin/gpt2.test" -test.v -test.count=1 -test.run TestForwardMatchesFloat64Reference)
log "probe: $(grep -m1 '^backend:' "$out/xla-probe.txt")"
if [ -z "${DEVICE_CHECK_BACKEND:-}" ] && ! grep -q '^backend: xla' "$out/xla-probe.txt"; then
  log "XLA CUDA is not in use: diagnostics only"
  step jax-diag 60 python3 -c "import jax; print(jax.__version__, jax.devices())"
  ldd "$plugin" >"$out/plugin-ldd.txt" 2>&1
  log "done in $SECONDS s; results in $final/device-check.tgz"
  exit 1
fi
step bench-gpt2-xl-forward 240 "$bin/actadd-bench" "${torch_flags[@]}" -models gpt2:5,gpt2-xl:3 -gen-model gpt2 -out "$out"
step bench-gpt2-xl-generation 180 "$bin/actadd-bench" "${torch_flags[@]}" -models none -gen-model gpt2-xl -sweep=false -greedy=false -out "$out/xl-gen"
(cd gpt2 && export ACTADD_TEST_BACKEND=selected && step gpt2-tests-xla 90 "$bin/gpt2.test" -test.v -test.count=1)
(cd actadd && export ACTADD_TEST_BACKEND=selected && step actadd-tests-xla 120 "$bin/actadd.test" -test.v -test.count=1 \
  -test.run 'SteeredLogitsMatchReference|ZeroCoefficientIsUnsteered|CachedGenerationEqualsRecomputation|MixedBatchEqualsRowsAlone|SweepCompilesAtMostTwoPrograms')
(export GOMLX_BACKEND="$GOMLX_BACKEND,tf32" && step bench-tf32-forward 120 "$bin/actadd-bench" -python= -models gpt2:5,gpt2-xl:3 -gen-model none -out "$out/tf32")
log "done in $SECONDS s; results in $final/device-check.tgz"
