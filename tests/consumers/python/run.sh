#!/usr/bin/env bash
# The Python wheel as a newcomer uses it: a fresh venv, `pip install` of the wheel that
# scripts/package-python.sh built, then a script (login_logout.py, run from outside the
# repository) that logs in and out against a real zego-room-server.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
echo "Python consumer (wheel in a fresh venv):"
consumer_workdir python

shopt -s nullglob
wheels=("$ROOT"/target/wheels/zego_room-"$VERSION"-py3-none-*.whl)
[ ${#wheels[@]} -eq 1 ] || fail "expected one target/wheels/zego_room-$VERSION-py3-none-*.whl (run scripts/package-python.sh), got ${#wheels[@]}"
WHEEL="${wheels[0]}"

# The wheel holds the generated module, the handler base and exactly the tested library.
python3 - "$WHEEL" "$PROFILE_DIR/libzego_room.so" <<'EOF' || fail "wheel contents"
import hashlib, sys, zipfile
wheel, lib = sys.argv[1:]
z = zipfile.ZipFile(wheel)
names = set(z.namelist())
need = {"zego_room/__init__.py", "zego_room/zego_room.py", "zego_room/libzego_room.so", "zego_room_handler.py"}
assert need <= names, f"missing {sorted(need - names)} in {sorted(names)}"
packed = hashlib.sha256(z.read("zego_room/libzego_room.so")).hexdigest()
built = hashlib.sha256(open(lib, "rb").read()).hexdigest()
assert packed == built, f"libzego_room.so in the wheel ({packed[:12]}) is not target/release's ({built[:12]})"
EOF
ok "$(basename "$WHEEL") holds zego_room/{__init__,zego_room}.py, zego_room_handler.py and target/release/libzego_room.so byte for byte"

python3 -m venv "$WORK/venv"
# --no-index: the wheel must install alone (no dependencies to fetch).
"$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$WHEEL"
ok "pip install $(basename "$WHEEL") into a fresh venv (no other package needed)"

start_server
# From a directory outside the repository, with nothing of the checkout on the paths.
cd "$WORK"
set +e
env -u PYTHONPATH -u LD_LIBRARY_PATH PYTHONDONTWRITEBYTECODE=1 \
  timeout 60 "$WORK/venv/bin/python" "$ROOT/tests/consumers/python/login_logout.py" "$SERVER_URL" "$APP_ID" \
  > "$WORK/out.txt" 2> "$WORK/err.txt"
rc=$?
set -e
cat "$WORK/out.txt"
if [ "$rc" -ne 0 ]; then
  cat "$WORK/err.txt" >&2
  fail "login_logout.py exited with $rc"
fi
grep -q '^Logined room=' "$WORK/out.txt" || fail "no Logined line"
grep -q '^Logout room=' "$WORK/out.txt" || fail "no Logout line"
# An event the script did not override must have hit a no-op default, not NotImplementedError
# (the library would log the handler's failure on stderr).
if grep -E -q 'NotImplementedError|panicked|Traceback|callback' "$WORK/err.txt"; then
  cat "$WORK/err.txt" >&2
  fail "a handler method raised (see stderr above)"
fi
ok "login/logout against zego-room-server at $SERVER_URL; no handler failure on stderr"
