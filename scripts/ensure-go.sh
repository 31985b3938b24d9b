#!/usr/bin/env bash
# Prints the path of a Go toolchain >= the version go.mod needs, installing it first when the
# machine has none: the toolchain comes as a module zip from the Go module proxy
# (golang.org/toolchain), the same source `GOTOOLCHAIN=auto` uses, into .tools/go.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
want=$(awk '/^go [0-9]/{print $2; exit}' "$root/go.mod")
ok() { # ok GO: is GO at least $want?
  local have
  have=$("$1" env GOVERSION 2>/dev/null | sed 's/^go//; s/-.*//') || return 1
  [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]
}
for g in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go "$root/.tools/go/bin/go"; do
  if [ -n "$g" ] && [ -x "$g" ] && ok "$g"; then echo "$g"; exit 0; fi
done
arch=$(uname -m); case "$arch" in x86_64) arch=amd64;; aarch64|arm64) arch=arm64;; esac
proxy=${GOPROXY:-https://proxy.golang.org}; proxy=${proxy%%,*}
[ "$proxy" = direct ] || [ "$proxy" = off ] && proxy=https://proxy.golang.org
url="$proxy/golang.org/toolchain/@v/v0.0.1-go$want.linux-$arch.zip"
echo "installing Go $want from $url into .tools/" >&2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
command -v unzip >/dev/null || { apt-get update -qq && apt-get install -y -qq unzip >/dev/null; }
curl -fsSL --retry 3 -o "$tmp/go.zip" "$url"
unzip -q "$tmp/go.zip" -d "$tmp/x"
rm -rf "$root/.tools/go"; mkdir -p "$root/.tools"
mv "$tmp/x/golang.org/toolchain@v0.0.1-go$want.linux-$arch" "$root/.tools/go"
chmod +x "$root/.tools/go/bin/"* "$root/.tools/go/pkg/tool/"*/* 2>/dev/null || true
echo "$root/.tools/go/bin/go"
