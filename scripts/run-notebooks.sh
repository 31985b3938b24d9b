#!/usr/bin/env bash
# Executes notebooks headless through the GoNB kernel, one after another, shows their progress
# on the console while they run, and reports each as ok or failed with the failing cell's own
# output (not a Python traceback).
#
#   scripts/run-notebooks.sh OUTDIR NOTEBOOK.ipynb...
#
# Progress: every long library call in a notebook appends its progress lines (done/total, rate,
# time left) to the file named by $ACTADD_PROGRESS_FILE (package progress); this script points
# that at OUTDIR/<notebook>.progress, tails it, and prints each line with the notebook's name,
# its position in the run, and the time left for the whole run, estimated from the call's own
# estimate plus the durations of the remaining notebooks in the previous run (OUTDIR/.durations).
# While no line comes (building the cell, loading the model), it says so every NB_QUIET seconds.
#
# Environment: JUPYTER (Debian's /usr/bin/jupyter), JUPYTER_DATA_DIR (holds the gonb kernel
# spec, see notebooks-setup.sh), NBCHECK (the nbcheck binary), NB_TIMEOUT (seconds per cell),
# and whatever the notebooks read: ACTADD_MODEL, ACTADD_SCALE, ACTADD_FIGURES, ...
# Executed notebooks (with outputs), kernel logs and progress files go to OUTDIR.
set -euo pipefail
: "${JUPYTER:?}" "${JUPYTER_DATA_DIR:?}" "${NBCHECK:?}" "${NB_TIMEOUT:?}"
quiet=${NB_QUIET:-30}
out=$1; shift
mkdir -p "$out"
export JUPYTER_RUNTIME_DIR=$JUPYTER_DATA_DIR/runtime

# dur SECONDS: 42s, 3m05s, 2h04m.
dur() {
  local s=$1
  if ((s < 60)); then printf '%ds' "$s"
  elif ((s < 3600)); then printf '%dm%02ds' $((s / 60)) $((s % 60))
  else printf '%dh%02dm' $((s / 3600)) $((s % 3600 / 60)); fi
}

# Durations of the previous run, by notebook name.
durations=$out/.durations
declare -A last=()
if [ -f "$durations" ]; then
  while read -r n s; do [[ $s =~ ^[0-9]+$ ]] && last[$n]=$s; done <"$durations"
fi
names=()
for nb in "$@"; do names+=("$(basename "$nb")"); done

# left_after I: the previous run's time of the notebooks after the I-th (1-based), and how
# many of them have no earlier time, as "SECONDS UNTIMED".
left_after() {
  local i=$1 sum=0 untimed=0 j
  for ((j = i; j < ${#names[@]}; j++)); do
    if [ -n "${last[${names[j]}]:-}" ]; then sum=$((sum + last[${names[j]}])); else untimed=$((untimed + 1)); fi
  done
  echo "$sum $untimed"
}

# overall I NAME ELAPSED STEP_LEFT: the time left for the whole run, in words. STEP_LEFT is the
# running call's own estimate in seconds (-1: none); the notebook's previous duration minus
# ELAPSED is used when larger.
overall() {
  local i=$1 name=$2 elapsed=$3 here=$4 rest untimed t words
  read -r rest untimed < <(left_after "$i")
  if [ -n "${last[$name]:-}" ]; then
    t=$((last[$name] - elapsed))
    ((t > here)) && here=$t
  fi
  if ((here >= 0 && untimed == 0)); then
    echo "run about $(dur $((here + rest))) left"
    return
  fi
  if ((here >= 0)); then words="this notebook about $(dur "$here") left"; else words="this notebook's time left not known yet"; fi
  ((rest == 0)) || words+=", then about $(dur "$rest") for the notebooks timed before"
  ((untimed == 0)) || words+=" (+ $untimed notebook(s) not timed before)"
  echo "$words"
}

# watch PROGRESS_FILE I NAME START: prints the progress lines appended to PROGRESS_FILE until
# it reads the line "end" (written when the notebook has finished).
watch() {
  local pf=$1 i=$2 name=$3 start=$4 secs line now tag tailpid
  tag="notebooks: [$i/${#names[@]} ${name%.ipynb}]"
  exec 3< <(exec tail -n +1 -F "$pf" 2>/dev/null)
  tailpid=$!
  while :; do
    if IFS=$'\t' read -r -t "$quiet" secs line <&3; then
      [ "$secs" != end ] || break
      [[ $secs =~ ^-?[0-9]+$ ]] || continue
      now=$(($(date +%s) - start))
      echo "$tag $line; $(overall "$i" "$name" "$now" "$secs")"
    elif (($? > 128)); then # no line for a while
      now=$(($(date +%s) - start))
      echo "$tag running for $(dur "$now") (building the cell, loading the model, or between progress lines); $(overall "$i" "$name" "$now" -1)"
    else
      break
    fi
  done
  kill "$tailpid" 2>/dev/null || true
  exec 3<&-
}

failed=()
i=0
run_start=$(date +%s)
for nb in "$@"; do
  i=$((i + 1))
  name=$(basename "$nb")
  log=$out/${name%.ipynb}.log
  prog=$out/${name%.ipynb}.progress
  start=$(date +%s)
  rm -f "$out/$name"
  : >"$prog"
  echo "notebooks: [$i/$# ${name%.ipynb}] starting; $(overall "$i" "$name" 0 -1)"
  # --allow-errors: the executed notebook is written even when a cell fails; nbcheck run then
  # finds the failing cell and prints its output.
  watch "$prog" "$i" "$name" "$start" &
  watcher=$!
  status=0
  ACTADD_PROGRESS_FILE=$prog "$JUPYTER" nbconvert --to notebook --execute --allow-errors \
    --ExecutePreprocessor.timeout="$NB_TIMEOUT" --ExecutePreprocessor.kernel_name=gonb \
    --output-dir="$out" "$nb" </dev/null >"$log" 2>&1 || status=$?
  printf 'end\n' >>"$prog"
  wait "$watcher" || true
  took=$(($(date +%s) - start))
  if ((status != 0)); then
    echo "notebooks: $name: FAILED after $took s; nbconvert says (full log: $log):" >&2
    # Drop the kernel's klog lines and its note about gopls; keep nbconvert's own message.
    grep -v -E '^[IWE][0-9]{4} |^$' "$log" | grep -v -E 'gopls|inspect into code|autocompletion|standard Go toolkit|^with:|^```' | tail -n 25 >&2 || true
    failed+=("$name")
    continue
  fi
  if ! "$NBCHECK" run "$out/$name"; then
    failed+=("$name")
    continue
  fi
  last[$name]=$took
  for n in "${!last[@]}"; do echo "$n ${last[$n]}"; done | sort >"$durations"
  echo "notebooks: $name ok ($took s) -> $out/$name"
done
echo "notebooks: $# notebooks in $(dur $(($(date +%s) - run_start)))"
if ((${#failed[@]})); then
  echo "notebooks: ${#failed[@]} of $# notebooks failed: ${failed[*]}" >&2
  exit 1
fi
