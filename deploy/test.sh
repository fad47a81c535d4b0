#!/bin/sh
# Installs every dependency (Debian packages), builds trestle with its tests
# and runs all of them: unit tests, the fuzz targets over their seed corpora,
# and the integration tests against real Prosody and ejabberd on loopback.
# Usage (as root): deploy/test.sh [BUILD_DIR]   (default: build-tests/)
# The last line printed is the summary, `N passed, M failed`.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$src/build-tests"}

"$src/deploy/install-deps.sh" build test

if [ -f "$build/build.ninja" ]; then
    meson setup --reconfigure "$build" "$src" -Dtests=true
else
    meson setup "$build" "$src" -Dtests=true
fi
ninja -C "$build" -j "$(nproc)"

status=0
# Boost.Test's short report gives per-case counts for the summary.
BOOST_TEST_REPORT_LEVEL=short meson test -C "$build" --no-rebuild --print-errorlogs \
    --timeout-multiplier 3 || status=$?
/usr/bin/python3 "$src/tests/summarize.py" "$build/meson-logs/testlog.json" || status=1
exit "$status"
