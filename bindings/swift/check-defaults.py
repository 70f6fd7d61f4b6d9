#!/usr/bin/env python3
"""Checks RoomEventHandler+Defaults.swift against the Swift UniFFI generates (no Swift compiler
here): every method of the generated `protocol RoomEventHandler` must have a default with exactly
the same signature, and the file must define nothing the protocol lacks (a typo would otherwise
compile as an unrelated extension method and silently not be a default).

Usage: check-defaults.py GENERATED/ZegoRoom.swift Sources/ZegoRoom/RoomEventHandler+Defaults.swift
"""
import re
import sys


def norm(sig: str) -> str:
    return re.sub(r"\s+", " ", sig).strip()


def protocol_funcs(src: str) -> list:
    m = re.search(r"public protocol RoomEventHandler\b[^{]*\{(.*?)\n\}", src, re.S)
    if not m:
        sys.exit("check-defaults: `public protocol RoomEventHandler` not found in the generated Swift")
    return [norm(f) for f in re.findall(r"^\s*(func [^\n]*?\))\s*$", m.group(1), re.M)]


def default_funcs(src: str) -> list:
    m = re.search(r"public extension RoomEventHandler \{(.*?)\n\}", src, re.S)
    if not m:
        sys.exit("check-defaults: `public extension RoomEventHandler` not found in the defaults file")
    return [norm(f) for f in re.findall(r"^\s*(func [^\n]*?\))\s*\{\s*\}\s*$", m.group(1), re.M)]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    generated = protocol_funcs(open(sys.argv[1], encoding="utf-8").read())
    defaults = default_funcs(open(sys.argv[2], encoding="utf-8").read())
    missing = [f for f in generated if f not in defaults]
    extra = [f for f in defaults if f not in generated]
    if not generated:
        sys.exit("check-defaults: the generated protocol has no methods (parser out of date?)")
    if missing or extra:
        for f in missing:
            print(f"missing default: {f}")
        for f in extra:
            print(f"default not in the protocol: {f}")
        sys.exit(1)
    print(f"Swift: {len(generated)} RoomEventHandler methods, each with an empty default")


if __name__ == "__main__":
    main()
