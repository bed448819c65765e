#!/usr/bin/env bash
# The SDK as an outside user gets it: packs @hitl/contracts and @hitl/sdk (`npm pack`, which builds
# each), installs the two tarballs into a fresh project outside the repository, and runs the plain
# JavaScript of .ci/sdk-smoke.mjs against the built service (dist/, so `npm run build` first) on a
# free port with the embedded database in a scratch DATA_DIR. Everything is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

WORK=$(mktemp -d /tmp/sdk-smoke.XXXXXX)
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Contracts first: the SDK's build reads their declarations.
npm pack --silent --workspace src/contracts --pack-destination "$WORK" >/dev/null
npm pack --silent --workspace client/sdk --pack-destination "$WORK" >/dev/null

mkdir "$WORK/app"
cd "$WORK/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "$WORK"/hitl-contracts-*.tgz "$WORK"/hitl-sdk-*.tgz
cp "$ROOT/.ci/sdk-smoke.mjs" .
# The published declarations resolve for a user too: the script, type-checked against them.
cat >tsconfig.json <<JSON
{
  "compilerOptions": {
    "module": "nodenext",
    "target": "es2022",
    "lib": ["es2023", "dom"],
    "typeRoots": ["$ROOT/node_modules/@types"],
    "types": ["node"],
    "allowJs": true,
    "checkJs": true,
    "strict": true,
    "noEmit": true
  },
  "files": ["sdk-smoke.mjs"]
}
JSON
node "$ROOT/node_modules/typescript/bin/tsc" -p tsconfig.json

PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
# A clean environment: no DATABASE_URL or REDIS_URL from the caller, so one node on PGlite.
env -i PATH="$PATH" HOME="${HOME:-$WORK}" HOST=127.0.0.1 PORT="$PORT" DATA_DIR="$WORK/data" \
  LOG_LEVEL=warn BUILTIN_TOKEN_DELAY_MS=1 node "$ROOT/dist/src/main.js" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

URL="http://127.0.0.1:$PORT"
ready() { node -e "fetch(process.argv[1]).then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))" "$URL/health/ready"; }
for _ in $(seq 1 120); do
  ready && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    cat "$WORK/server.log" >&2
    echo "sdk smoke: the service exited before it was ready" >&2
    exit 1
  fi
  sleep 0.5
done

if ! node sdk-smoke.mjs "$URL"; then
  echo "--- service log" >&2
  cat "$WORK/server.log" >&2
  exit 1
fi
