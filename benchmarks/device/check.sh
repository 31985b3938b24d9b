#!/usr/bin/env bash
# The GPU check (benchmarks/device/README.md). Build on a machine with Go (`make device-prep`),
# copy the repository with .tools/device to a CUDA machine that has no Go toolchain, and run
# there from the repository root:
#
#   bash benchmarks/device/check.sh [DEADLINE_SECONDS]   # default 440
#
# It writes everything into one archive, $OUT/device-check.tgz (OUT defaults to
# /tmp/device-out), with summary.txt also beside it. Steps, in order of priority; each has a
# time limit, is skipped (and says so) when less than half of it is left before the deadline,
# and goes on after a failure:
#  1. find the CUDA PJRT plugin (jax's jax-cuda13-pjrt package in site-packages) and set up
#     the CUDA environment jax would (NVIDIA pip libraries, libdevice, ptxas);
#  2. probe that the Go binaries really run on XLA CUDA (else diagnostics, and stop);
#  3. gpt2: 200 completions × 40 tokens with the paper's sampler and greedily, batch 32, each
#     batch interleaved with PyTorch's on the same GPU with the same sampler; compilation
#     reported apart (the warm-up batch);
#  4. the compile cache: the same small job in two processes on an empty cache folder; the
#     second's compile time against the first's;
#  5. gpt2-xl: the sampled generation against PyTorch; E1's scoring throughput (tokens/s, 200
#     synthetic documents); E2 at the paper's size end to end (49 settings × 200 completions ×
#     40 tokens), last as the longest. With no
#     gpt2-xl weights on the machine (a checkpoint folder in $DEVICE_CHECK_XL or the Hugging
#     Face cache) these run on random weights of gpt2-xl's shape, and say so;
#  6. the gpt2 tests and the key ActAdd tests on XLA CUDA (ACTADD_TEST_BACKEND=selected);
#  7. where transformers imports: the Llama family's Hugging Face oracle fixtures
#     (hf_llama_fixture.py, on the CPU), returned in the archive as llama-testdata/ to be
#     committed as llama/testdata.
# float32 matmuls throughout (backend.New's default; TF32 only when GOMLX_BACKEND asks).
#
# A dry run without a GPU, on the go backend at tiny sizes (PyTorch on the CPU if it imports):
#   DEVICE_CHECK_BACKEND=go DEVICE_CHECK_TINY=1 OUT=/tmp/out bash benchmarks/device/check.sh 300
set -uo pipefail
cd "$(dirname "$0")/../.."
final=${OUT:-/tmp/device-out}
out=$(mktemp -d /tmp/device-check.XXXXXX)
mkdir -p "$final"
bin=$(mktemp -d /tmp/device-bin.XXXXXX)
trap 'tar czf "$final/device-check.tgz" -C "$out" . && cp "$out/summary.txt" "$final/"; rm -rf "$bin"' EXIT
log() { echo "device-check: $*" | tee -a "$out/summary.txt"; }
deadline=${1:-440}
step() { # step NAME SECONDS CMD...: runs CMD with a time limit, output to $out/NAME.txt
  local name=$1 secs=$2; shift 2
  local left=$((deadline - SECONDS - 5))
  if [ "$left" -lt 30 ] || [ "$left" -lt $((secs / 2)) ]; then
    log "$name: SKIPPED, $left s left before the deadline and it needs up to $secs"
    return 1
  fi
  [ "$secs" -gt "$left" ] && secs=$left
  local t0=$SECONDS
  timeout "$secs" "$@" >"$out/$name.txt" 2>&1
  local rc=$?
  if [ "$rc" = 124 ]; then
    log "$name: CUT at its limit of $secs s (what it finished is in its JSON)"
  else
    log "$name: rc=$rc in $((SECONDS - t0)) s"
  fi
  tail -3 "$out/$name.txt" | sed 's/^/    /' | tee -a "$out/summary.txt"
  return "$rc"
}
export GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1 GOMLX_NO_AUTO_INSTALL=1
py=${DEVICE_CHECK_PYTHON:-python3}

(nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nproc; free -g
 grep -m1 "model name" /proc/cpuinfo; "$py" -m pip list 2>/dev/null | grep -i -E "^(jax|torch|transformers|nvidia|safetensors)") >"$out/machine.txt" 2>&1
log "machine: $(head -1 "$out/machine.txt")"
if ! ls .tools/device/*.gz >/dev/null 2>&1; then
  log "no binaries in .tools/device: run \`make device-prep\` on a machine with Go first, then copy the repository with .tools/device"
  exit 1
fi
for f in .tools/device/*.gz; do gunzip -c "$f" >"$bin/$(basename "$f" .gz)"; done
chmod +x "$bin"/actadd-bench "$bin"/*.test

# The plugin, and the CUDA environment that jax sets up at import for it: the NVIDIA pip
# packages' libraries (LD_LIBRARY_PATH), libdevice (XLA's --xla_gpu_cuda_data_dir) and ptxas.
plugin= cuda_libs= cuda_bins= cuda_data=
command -v "$py" >/dev/null || log "no $py on PATH: cannot look for the plugin in site-packages (set DEVICE_CHECK_PYTHON)"
eval "$("$py" - <<'PY'
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
log "CUDA PJRT plugin: ${plugin:-none found}; libdevice in: ${cuda_data:-not found}; ptxas in: ${cuda_bins:-not found}"
[ -n "$cuda_libs" ] && export LD_LIBRARY_PATH="$cuda_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -n "$cuda_bins" ] && export PATH="$cuda_bins:$PATH"
[ -n "$cuda_data" ] && export XLA_FLAGS="--xla_gpu_cuda_data_dir=$cuda_data${XLA_FLAGS:+ $XLA_FLAGS}"
export GOPJRT_CUDA_CHECKS=0 # go-xla's check looks for ../nvidia next to the plugin; set up above
if [ -n "${DEVICE_CHECK_BACKEND:-}" ]; then # a dry run elsewhere, e.g. "go"
  log "DEVICE_CHECK_BACKEND=$DEVICE_CHECK_BACKEND: a dry run on that backend instead of the plugin"
  export GOMLX_BACKEND=$DEVICE_CHECK_BACKEND
else
  if [ -z "$plugin" ]; then
    log "no CUDA PJRT plugin under site-packages/jax_plugins (install jax[cuda13]): diagnostics only"
    step jax-diag 60 "$py" -c "import jax; print(jax.__version__, jax.devices())"
    exit 1
  fi
  export GOMLX_BACKEND="xla:$plugin"
fi
# The compile cache of every step but the cache check: empty at the start, so the first
# compilation of each program is a cold one.
export ACTADD_XLA_CACHE="$out/xla-cache"

# Sizes: the real ones, or tiny ones for a dry run.
small=gpt2 xl=gpt2-xl gen=() e2=() e1=(-e1-docs 200) cache=(-gen-rows 32 -gen-tokens 8)
if [ -n "${DEVICE_CHECK_TINY:-}" ]; then
  small=tiny xl=4x256 gen=(-gen-rows 32 -gen-tokens 4) e2=(-e2-completions 2 -e2-tokens 4) e1=(-e1-docs 8) cache=(-gen-rows 8 -gen-tokens 2)
  log "DEVICE_CHECK_TINY: tiny sizes ($small for gpt2, $xl for gpt2-xl, E2 at 2 × 4 tokens)"
fi
# gpt2-xl weights: $DEVICE_CHECK_XL, or the Hugging Face cache; else random weights of its shape.
xlw=${DEVICE_CHECK_XL:-}
if [ -z "$xlw" ] && [ -z "${DEVICE_CHECK_TINY:-}" ]; then
  for d in "${HF_HUB_CACHE:-${HF_HOME:-$HOME/.cache/huggingface}/hub}"/models--*gpt2-xl/snapshots/*/; do
    [ -f "$d/config.json" ] && [ -f "$d/model.safetensors" ] && xlw=$d && break
  done
fi
if [ -n "$xlw" ]; then
  log "E2 and E1 on the gpt2-xl checkpoint in $xlw"
else
  xlw=$xl
  log "E2 and E1 on RANDOM WEIGHTS of $xl's shape (no gpt2-xl checkpoint found: set DEVICE_CHECK_XL to one): the timings hold, the experiments' outcomes mean nothing"
fi
# The PyTorch reference runs on the GPU when torch sees one (on the CPU in a dry run).
torch_flags=(-python=)
if "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" >>"$out/machine.txt" 2>&1; then
  torch_flags=(-python "$(command -v "$py")" -torch-device cuda)
elif [ -n "${DEVICE_CHECK_BACKEND:-}" ] && "$py" -c "import torch" 2>/dev/null; then
  torch_flags=(-python "$(command -v "$py")" -torch-device cpu)
fi
log "PyTorch reference: ${torch_flags[*]}"
bench=("$bin/actadd-bench" -one-core=false -sampler-time=-1s)

# 2. Is XLA CUDA what the Go binaries use? (backend.New falls back to go, with one line.)
(cd gpt2 && export ACTADD_TEST_BACKEND=selected && step xla-probe 90 "$bin/gpt2.test" -test.v -test.count=1 -test.run TestForwardMatchesFloat64Reference)
log "probe: $(grep -m1 '^backend:' "$out/xla-probe.txt")"
if [ -z "${DEVICE_CHECK_BACKEND:-}" ] && ! grep -q '^backend: xla' "$out/xla-probe.txt"; then
  log "XLA CUDA is not in use: diagnostics only"
  step jax-diag 60 "$py" -c "import jax; print(jax.__version__, jax.devices())"
  ldd "$plugin" >"$out/plugin-ldd.txt" 2>&1
  log "done in $SECONDS s; results in $final/device-check.tgz"
  exit 1
fi

# 3. gpt2: sampled and greedy generation against PyTorch.
step gen-gpt2 120 "${bench[@]}" "${torch_flags[@]}" -models none -gen-model "$small" -sweep=false "${gen[@]}" -out "$out/gen-gpt2"

# 4. The compile cache: the second process against the first, on an empty folder.
for i in 1 2; do
  ACTADD_XLA_CACHE="$out/xla-cache-check" step "compile-cache-$i" 75 "${bench[@]}" -python= -models "$small:1" -gen-model "$small" \
    -sweep=false -greedy=false "${cache[@]}" -out "$out/compile-cache-$i"
done

# 5. gpt2-xl: sampled generation against PyTorch, E1's scoring, E2 at the paper's size.
step gpt2-xl 330 "${bench[@]}" "${torch_flags[@]}" -models none -gen-model "$xl" -sweep=false -greedy=false "${gen[@]}" \
  -e2 "$xlw" "${e2[@]}" -e1 "$xlw" "${e1[@]}" -out "$out/gpt2-xl"

# 6. The tests on XLA CUDA.
(cd gpt2 && export ACTADD_TEST_BACKEND=selected && step gpt2-tests-xla 90 "$bin/gpt2.test" -test.count=1)
(cd actadd && export ACTADD_TEST_BACKEND=selected && step actadd-tests-xla 120 "$bin/actadd.test" -test.count=1 \
  -test.run 'SteeredLogitsMatchReference|ZeroCoefficientIsUnsteered|CachedGenerationEqualsRecomputation|MixedBatchEqualsRowsAlone|SweepCompilesAtMostTwoPrograms')

# 7. The Llama family's Hugging Face oracle fixtures (llama/hf_oracle_test.go).
if "$py" -c "import transformers, safetensors" 2>/dev/null; then
  step hf-llama-fixture 90 "$py" benchmarks/device/hf_llama_fixture.py "$out/llama-testdata"
else
  log "hf-llama-fixture: SKIPPED, $py cannot import transformers and safetensors"
fi

# The numbers against the targets (H100/H200): sampled generation ratio ≤ 1.0 (compile
# excluded), E2 at the paper's size on gpt2-xl ≤ 60 s; and the compile cache's effect.
"$py" - "$out" <<'PY' 2>&1 | tee -a "$out/summary.txt"
import json, os, sys
out = sys.argv[1]
def load(name):
    try:
        with open(os.path.join(out, name, "latest.json")) as f:
            return json.load(f)
    except OSError:
        return None
def gen_line(r, what):
    for g in (r or {}).get("generation") and [r["generation"], r.get("generation_greedy")] or []:
        if not g:
            continue
        s = g["sampling"]
        how = "greedy" if s["Temperature"] == 0 else "sampled"
        ratio = g.get("ratio_vs_torch")
        rs = f"ratio {ratio['value']:.2f} [{ratio['lo95']:.2f}, {ratio['hi95']:.2f}]" if ratio else "no PyTorch"
        target = " (target ≤ 1.0)" if how == "sampled" else ""
        print(f"result: {what} {g['model']}, {how} {g['rows']}×{g['new_tokens']}: {g['tokens_per_second']:.0f} tok/s, "
              f"PyTorch {g.get('torch_tokens_per_second', 0):.0f} tok/s, {rs}{target}; compile ≈ {g['compile_seconds_estimate']:.1f} s "
              f"({g['warmup_compiles']} programs, not in the ratio)")
gpu = None
for name, what in (("gen-gpt2", "gpt2"), ("gpt2-xl", "gpt2-xl")):
    r = load(name)
    if r is None:
        print(f"result: {what}: no JSON (the step was skipped or failed before its first section)")
        continue
    gpu = gpu or r["machine"].get("gpu")
    gen_line(r, what)
    if name == "gpt2-xl":
        done = {p["experiment"][:2] for p in r.get("paper", [])}
        for e in ("E1", "E2"):
            if e not in done:
                print(f"result: {e}: not finished within the step's limit (its progress lines are in gpt2-xl.txt)")
    for p in r.get("paper", []):
        rw = " on RANDOM WEIGHTS" if p["random_weights"] else ""
        if p["experiment"].startswith("E2"):
            print(f"result: E2 {p['settings']} settings × {p['completions']} × {p['new_tokens']} tokens{rw}: {p['seconds']:.1f} s end to end "
                  f"({p['compiles']} compilations; target ≤ 60 s)")
        else:
            print(f"result: E1 scoring{rw}: {p['tokens_per_second']:.0f} tokens/s ({p['tokens']} tokens of {p['documents']} documents in {p['seconds']:.1f} s)")
c = [load(f"compile-cache-{i}") for i in (1, 2)]
if all(c):
    def compile_s(r):
        f = (r.get("forward") or [{}])[0]
        fwd = f.get("warmup_base", 0) - f.get("base_mean", 0)
        return fwd, r["generation"]["compile_seconds_estimate"]
    (f1, g1), (f2, g2) = compile_s(c[0]), compile_s(c[1])
    print(f"result: compile cache: first process {f1:.1f} s (forward) + {g1:.1f} s (prefill and step), "
          f"second process {f2:.1f} s + {g2:.1f} s; {c[1]['backend']}")
else:
    print("result: compile cache: a process did not finish")
print(f"GPU: {gpu or 'none seen'}")
PY
log "done in $SECONDS s; results in $final/device-check.tgz"
