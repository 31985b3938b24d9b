#!/usr/bin/env bash
# Makes the notebooks runnable headless: Debian's Jupyter (nbconvert + nbclient), and the GoNB
# kernel spec in $JUPYTER_DATA_DIR (inside the repo, .tools/jupyter) with the environment our
# binaries need. Idempotent and quiet; fast when everything is in place. Called by `make jupyter`
# (so by `make notebooks`, `make notebooks-ci`), after `go install tool` has put gonb and
# goimports into $GOBIN.
#
# Environment (set by the Makefile): GOBIN, JUPYTER_DATA_DIR, GO (the go binary to use).
set -euo pipefail
: "${GOBIN:?}" "${JUPYTER_DATA_DIR:?}" "${GO:?}"
jupyter=/usr/bin/jupyter # Debian's; a pyenv/conda jupyter earlier on PATH may lack nbclient

# 1. Debian packages, only when missing. jupyter-nbformat provides `jupyter trust`.
pkgs=(jupyter-nbconvert jupyter-client python3-nbclient jupyter-nbformat)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    echo "notebooks: need the Debian packages ${missing[*]} (or any Jupyter with nbconvert and nbclient at $jupyter)" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
      echo "notebooks: Debian packages missing: ${missing[*]}. Install them as root: apt-get install --no-install-recommends ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "notebooks: installing ${missing[*]} (apt-get)" >&2
  log=$(mktemp)
  if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq &&
         "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "notebooks: apt-get install ${missing[*]} failed (output above)" >&2
    exit 1
  fi
  rm -f "$log"
fi
[ -x "$jupyter" ] || { echo "notebooks: $jupyter is missing after installing the packages" >&2; exit 1; }

# 2. The GoNB kernel spec, with our environment baked in, (re)written when missing or stale.
kdir=$JUPYTER_DATA_DIR/kernels/gonb
spec=$kdir/kernel.json
godir=$(dirname "$GO")
want_env=$(printf '%s\n' \
  "PATH=$godir:$GOBIN:\${PATH}" \
  "GOEXPERIMENT=simd" \
  "GODEBUG=asyncpreemptoff=1" \
  "GOMLX_NO_AUTO_INSTALL=1")
stamp=$kdir/.actadd-env
if [ -f "$spec" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_env" ] &&
   [ "$spec" -nt "$GOBIN/gonb" ] && grep -q -- '-raw_error=true' "$spec"; then
  exit 0
fi
mkdir -p "$JUPYTER_DATA_DIR"
log=$(mktemp)
if ! "$GOBIN/gonb" --install --force_deps --raw_error >"$log" 2>&1; then
  cat "$log" >&2; rm -f "$log"
  echo "notebooks: gonb --install failed (output above)" >&2
  exit 1
fi
rm -f "$log"
# gonb writes "env": {} — add ours. jupyter_client substitutes ${VAR} from the launching
# environment, so PATH keeps whatever the user had, after our go and tools.
/usr/bin/python3 - "$spec" "$want_env" <<'EOF'
import json, sys
path, env = sys.argv[1], sys.argv[2]
with open(path) as f:
    spec = json.load(f)
spec["display_name"] = "Go (gonb, actadd)"
spec.setdefault("env", {}).update(dict(line.split("=", 1) for line in env.splitlines() if line))
with open(path, "w") as f:
    json.dump(spec, f, indent=1)
    f.write("\n")
EOF
printf '%s\n' "$want_env" >"$stamp"
echo "notebooks: GoNB kernel installed in $kdir" >&2
