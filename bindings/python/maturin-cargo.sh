#!/usr/bin/env bash
# `cargo` as maturin sees it while scripts/package-python.sh runs (put first on PATH as `cargo`).
#
# maturin (1.14, UniFFI mode) calls cargo twice in ways that would not reuse the project's build:
#   1. `cargo rustc --profile release --lib --crate-type cdylib ...` - with `lto = "thin"`, a
#      cdylib-only root makes cargo build every dependency as bitcode only, i.e. a second full
#      release build (measured: 3.5 min on 2 cores);
#   2. `cargo run --bin uniffi-bindgen --features cli generate ...` - the dev profile, i.e. a full
#      debug build just to run the bindgen.
# This wrapper turns (1) into the project's one build (`cargo build --lib --bins --examples`
# with the same profile and features; nothing to do after scripts/package-common.sh), whose JSON
# messages name the same libzego_room.so, and runs (2) with the release uniffi-bindgen of that
# build (same crate, same pinned uniffi). Every other cargo command passes through unchanged.
# An unexpected shape of (1) or (2) fails loudly instead of silently building twice.
#
# Environment (set by package-python.sh): ZEGO_PACK_CARGO (the real cargo), ZEGO_PACK_BINDGEN
# (release uniffi-bindgen), ZEGO_PACK_LOG (one line per rewritten call, checked by the script).
set -euo pipefail

real="${ZEGO_PACK_CARGO:?ZEGO_PACK_CARGO not set}"
log() { echo "$*" >> "${ZEGO_PACK_LOG:?ZEGO_PACK_LOG not set}"; }
die() { echo "maturin-cargo.sh: $*" >&2; exit 97; }

case "${1:-}" in
  rustc)
    shift
    args=() saw_lib=0 saw_cdylib=0 saw_release=0
    while [ $# -gt 0 ]; do
      case "$1" in
        --crate-type) [ "${2:-}" = cdylib ] || die "unexpected --crate-type ${2:-}"; saw_cdylib=1; shift 2; continue ;;
        --lib) saw_lib=1 ;;
        --release) saw_release=1 ;;
        --profile) [ "${2:-}" = release ] || die "unexpected --profile ${2:-} (package the release build)"; saw_release=1 ;;
        --target|--target=*) die "cross builds are not supported here: $*" ;;
        --) die "extra rustc arguments cannot be applied to the shared build: $*" ;;
      esac
      args+=("$1")
      shift
    done
    [ "$saw_lib" = 1 ] && [ "$saw_cdylib" = 1 ] && [ "$saw_release" = 1 ] || die "unexpected cargo rustc call: ${args[*]}"
    log "rustc -> build ${args[*]} --bins --examples"
    exec "$real" build "${args[@]}" --bins --examples
    ;;
  run)
    # run --bin uniffi-bindgen --manifest-path M [--features F] generate ARGS...
    [ "${2:-}" = --bin ] && [ "${3:-}" = uniffi-bindgen ] || exec "$real" "$@"
    shift 3
    while [ $# -gt 0 ] && [ "$1" != generate ]; do
      case "$1" in
        --manifest-path|--features) shift 2 ;;
        *) die "unexpected argument to cargo run --bin uniffi-bindgen: $1" ;;
      esac
    done
    [ $# -gt 0 ] || die "cargo run --bin uniffi-bindgen without 'generate'"
    log "run uniffi-bindgen -> ${ZEGO_PACK_BINDGEN:?} $*"
    exec "$ZEGO_PACK_BINDGEN" "$@"
    ;;
  *)
    exec "$real" "$@"
    ;;
esac
