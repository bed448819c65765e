#!/usr/bin/env bash
# Throwaway redis-server for tests: `redis.sh start DIR PORT` / `redis.sh stop DIR PORT`.
# Nothing is persisted (no RDB, no AOF): a stop loses everything, a start begins empty.
set -euo pipefail
cmd=$1 dir=$2 port=$3
case "$cmd" in
  start)
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
      --pidfile "$dir/redis.pid" --daemonize yes >/dev/null
    for _ in $(seq 1 100); do
      [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && { echo "redis://127.0.0.1:$port"; exit 0; }
      sleep 0.05
    done
    echo "redis-server did not start on port $port" >&2
    exit 1
    ;;
  stop)
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR PORT" >&2; exit 2 ;;
esac
