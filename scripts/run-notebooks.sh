#!/usr/bin/env bash
# Executes notebooks headless through the GoNB kernel, one after another, and reports each as
# ok or failed with the failing cell's own output (not a Python traceback).
#
#   scripts/run-notebooks.sh OUTDIR NOTEBOOK.ipynb...
#
# Environment: JUPYTER (Debian's /usr/bin/jupyter), JUPYTER_DATA_DIR (holds the gonb kernel
# spec, see notebooks-setup.sh), NBCHECK (the nbcheck binary), NB_TIMEOUT (seconds per cell),
# and whatever the notebooks read: ACTADD_MODEL, ACTADD_SCALE, ACTADD_FIGURES, ...
# Executed notebooks (with outputs) and the kernel logs go to OUTDIR.
set -euo pipefail
: "${JUPYTER:?}" "${JUPYTER_DATA_DIR:?}" "${NBCHECK:?}" "${NB_TIMEOUT:?}"
out=$1; shift
mkdir -p "$out"
export JUPYTER_RUNTIME_DIR=$JUPYTER_DATA_DIR/runtime
failed=()
for nb in "$@"; do
  name=$(basename "$nb")
  log=$out/${name%.ipynb}.log
  start=$(date +%s)
  rm -f "$out/$name"
  # --allow-errors: the executed notebook is written even when a cell fails; nbcheck run then
  # finds the failing cell and prints its output.
  if ! "$JUPYTER" nbconvert --to notebook --execute --allow-errors \
      --ExecutePreprocessor.timeout="$NB_TIMEOUT" --ExecutePreprocessor.kernel_name=gonb \
      --output-dir="$out" "$nb" </dev/null >"$log" 2>&1; then
    echo "notebooks: $name: FAILED after $(($(date +%s) - start)) s; nbconvert says (full log: $log):" >&2
    # Drop the kernel's klog lines and its note about gopls; keep nbconvert's own message.
    grep -v -E '^[IWE][0-9]{4} |^$' "$log" | grep -v -E 'gopls|inspect into code|autocompletion|standard Go toolkit|^with:|^```' | tail -n 25 >&2 || true
    failed+=("$name")
    continue
  fi
  if ! "$NBCHECK" run "$out/$name"; then
    failed+=("$name")
    continue
  fi
  echo "notebooks: $name ok ($(($(date +%s) - start)) s) -> $out/$name"
done
if ((${#failed[@]})); then
  echo "notebooks: ${#failed[@]} of $# notebooks failed: ${failed[*]}" >&2
  exit 1
fi
