#!/usr/bin/env bash
# Installs what the browser test (notebooks/browsertest) needs, when missing: Debian's chromium
# and classic Jupyter Notebook (jupyter-notebook); also poppler-utils, whose pdftotext the plots
# package's tests use to read the text back out of exported PDFs. Called by `make unit` (so
# `make test`).
# Where they cannot be installed (no apt-get, not root and no sudo, no network) it says so and
# succeeds: the test then skips with one line saying what is missing.
set -euo pipefail
pkgs=(chromium jupyter-notebook poppler-utils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
if ! command -v apt-get >/dev/null; then
  echo "browser test: no apt-get to install ${missing[*]}; the browser test will be skipped" >&2
  exit 0
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    echo "browser test: Debian packages missing: ${missing[*]} (install them as root: apt-get install --no-install-recommends ${missing[*]}); the browser test will be skipped" >&2
    exit 0
  fi
fi
echo "browser test: installing ${missing[*]} (apt-get)" >&2
log=$(mktemp)
if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq &&
       "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  echo "browser test: apt-get install ${missing[*]} failed (output above); the browser test will be skipped" >&2
fi
rm -f "$log"
