# Sourced by tests/consumers/*/run.sh: paths, checks, and a real zego-room-server on free
# loopback ports (stopped when the script exits).
#
# The consumer tests use only what a newcomer would have after installing a package: the
# installed artifact, the public docs and a server. They need the project's build for the
# server binary (target/release/zego-room-server) and the packages made by scripts/package-*.sh.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PROFILE_DIR="$ROOT/target/release"
VERSION="$(sed -n '/^\[package\]/,/^\[/{s/^version *= *"\(.*\)"/\1/p}' "$ROOT/Cargo.toml" | head -n1)"
APP_ID=1234567

ok() { echo "  ok: $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# consumer_workdir NAME: a fresh directory under target/consumers/ (outside any source tree the
# consumer could pick the library up from by accident), exported as WORK.
consumer_workdir() {
  WORK="$ROOT/target/consumers/$1"
  rm -rf "$WORK" && mkdir -p "$WORK"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}

# start_server: sets SERVER_URL (ws://127.0.0.1:PORT); the log goes to $WORK/server.log.
start_server() {
  local exe="$PROFILE_DIR/zego-room-server" port admin i
  [ -x "$exe" ] || fail "$exe missing: build with cargo build --release --features server,cli --lib --bins --examples"
  port="$(free_port)"
  admin="$(free_port)"
  "$exe" --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$admin" --app-id "$APP_ID" \
    --heartbeat-timeout 3 --ping-interval 1 2> "$WORK/server.log" &
  SERVER_PID=$!
  trap stop_server EXIT
  for i in $(seq 100); do
    if (: < "/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      SERVER_URL="ws://127.0.0.1:$port"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; fail "zego-room-server exited"; }
    sleep 0.1
  done
  fail "zego-room-server did not open port $port"
}
