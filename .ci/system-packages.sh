#!/usr/bin/env bash
# The system packages the tests need, installed from Debian's apt when missing: PostgreSQL 15
# server binaries (usually already on the machine), redis-server for the tests of two nodes,
# and Chromium for the browser tests (nothing downloads a browser of its own). `npm test` and
# .ci/run both call it; with everything present it does nothing.
set -euo pipefail
need=()
[ -x "${PGBIN:-/usr/lib/postgresql/15/bin}/initdb" ] || need+=(postgresql-15)
command -v redis-server >/dev/null || need+=(redis-server)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "the tests need: ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
