# Sourced by the bindings' run-tests.sh: finds the build and generates one language's bindings
# from it (library mode, with the crate's own uniffi-bindgen).
#
# Needs a prior build:  cargo build --release --features server,cli --lib --bins --examples
# ZEGO_PROFILE_DIR selects the build (default target/release; e.g. target/debug while developing).
# Sets ROOT, PROFILE_DIR (exported as ZEGO_PROFILE_DIR) and LIB.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROFILE_DIR="${ZEGO_PROFILE_DIR:-target/release}"
case "$PROFILE_DIR" in /*) ;; *) PROFILE_DIR="$ROOT/$PROFILE_DIR" ;; esac
export ZEGO_PROFILE_DIR="$PROFILE_DIR"

LIB="$PROFILE_DIR/libzego_room.so"
[ "$(uname)" = "Darwin" ] && LIB="$PROFILE_DIR/libzego_room.dylib"
for f in "$LIB" "$PROFILE_DIR/uniffi-bindgen" "$PROFILE_DIR/zego-room-server" "$PROFILE_DIR/examples/fault_proxy" "$PROFILE_DIR/examples/tls_certs"; do
  if [ ! -e "$f" ]; then
    echo "run-tests.sh: missing $f" >&2
    echo "build first: cargo build --release --features server,cli --lib --bins --examples" >&2
    exit 2
  fi
done

# generate_bindings LANGUAGE OUT_DIR: fresh bindings for LANGUAGE in OUT_DIR.
generate_bindings() {
  rm -rf "$2"
  mkdir -p "$2"
  "$PROFILE_DIR/uniffi-bindgen" generate --library "$LIB" --language "$1" --no-format --out-dir "$2"
}
