#!/bin/sh
# Installs the build dependencies (Debian packages) and builds trestle.
# Usage (as root): deploy/build.sh [BUILD_DIR] [meson options...]
# BUILD_DIR defaults to build/ in the source tree; the binary is BUILD_DIR/trestle.
# Without options it makes a release build without the tests.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$src/build"}
[ "$#" -gt 0 ] && shift
if [ "$#" -eq 0 ]; then
    set -- --buildtype=release -Dtests=false
fi

"$src/deploy/install-deps.sh" build

if [ -f "$build/build.ninja" ]; then
    meson setup --reconfigure "$build" "$src" "$@"
else
    meson setup "$build" "$src" "$@"
fi
# Two jobs per core would swap on small machines; Asio TUs are large.
ninja -C "$build" -j "$(nproc)"
