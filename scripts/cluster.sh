#!/usr/bin/env bash
# A local 3-node zego-room cluster in one command (contract §8): one redis-server and three
# zego-room-server nodes sharing it, each with its own signalling and admin port. Ctrl-C stops
# everything. Engines connect with the list it prints (each new attempt moves to the next node).
#
#   scripts/cluster.sh                       # release build, ports 9100/9101, 9110/9111, 9120/9121
#   BASE_PORT=9200 REDIS_PORT=6390 scripts/cluster.sh -- --server-secret 0123456789abcdef0123456789abcdef
#
# Everything after `--` is passed to every node (e.g. --server-secret, --heartbeat-timeout).
# Environment: BASE_PORT (9100), REDIS_PORT (6379; a free one is needed), APP_ID (1),
# REDIS_PREFIX (zego-room), NO_BUILD=1 (use the existing build), LOG (RUST_LOG, default info).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_PORT=${BASE_PORT:-9100}
REDIS_PORT=${REDIS_PORT:-6379}
APP_ID=${APP_ID:-1}
REDIS_PREFIX=${REDIS_PREFIX:-zego-room}
EXTRA=()
if [ "${1:-}" = "--" ]; then shift; EXTRA=("$@"); fi

command -v redis-server >/dev/null || { echo "cluster.sh: redis-server not found (Debian: apt-get install redis-server)" >&2; exit 1; }
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release --features server --bin zego-room-server
fi
BIN=target/release/zego-room-server
DIR=$(mktemp -d "${TMPDIR:-/tmp}/zego-room-cluster.XXXXXX")
PIDS=()
stop() {
  trap - INT TERM EXIT
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DIR"
}
trap stop INT TERM EXIT

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR" --save '' --appendonly no \
  --logfile "$DIR/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null && break
  sleep 0.1
done
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

URLS=()
for i in 0 1 2; do
  ws=$((BASE_PORT + 10 * i)); admin=$((ws + 1))
  RUST_LOG=${LOG:-info} "$BIN" --listen "127.0.0.1:$ws" --admin-listen "127.0.0.1:$admin" --app-id "$APP_ID" \
    --redis "$REDIS_URL" --redis-prefix "$REDIS_PREFIX" --node-id "node-$i" "${EXTRA[@]}" \
    2> >(sed -u "s/^/[node-$i] /" >&2) &
  PIDS+=($!)
  URLS+=("ws://127.0.0.1:$ws")
done
LIST=$(IFS=,; echo "${URLS[*]}")
echo "redis:   $REDIS_URL (prefix $REDIS_PREFIX:$APP_ID)"
for i in 0 1 2; do echo "node-$i: ws://127.0.0.1:$((BASE_PORT + 10 * i))  admin http://127.0.0.1:$((BASE_PORT + 10 * i + 1))"; done
echo "engines: server = \"$LIST\""
echo "Ctrl-C stops the cluster."
wait -n "${PIDS[@]}" || true
echo "cluster.sh: a process exited; stopping the cluster" >&2
