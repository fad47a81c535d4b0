#!/bin/sh
# Installs every dependency (Debian packages), builds trestle with its tests
# and runs all of them: unit tests, the fuzz targets over their seed corpora,
# the integration tests against real servers on loopback, the container check
# (the image and the compose demo, when a Docker engine can be had), a
# release build that must be free of warnings, and a check that no server a
# test started is left running.
# Usage (as root): deploy/test.sh [BUILD_DIR]   (default: build-tests/)
# The last line printed is the summary, `N passed, M failed`.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$src/build-tests"}

"$src/deploy/install-deps.sh" build test container

if [ -f "$build/build.ninja" ]; then
    meson setup --reconfigure "$build" "$src" -Dtests=true
else
    meson setup "$build" "$src" -Dtests=true
fi
ninja -C "$build" -j "$(nproc)"

status=0
# Servers running now are not the tests' doing; any new one at the end is.
servers_before="$build/servers-before.json"
/usr/bin/python3 "$src/tests/leftover_servers.py" snapshot "$servers_before"

# Boost.Test's short report gives per-case counts for the summary.
BOOST_TEST_REPORT_LEVEL=short meson test -C "$build" --no-rebuild --print-errorlogs \
    --timeout-multiplier 3 || status=$?

# The release configuration (what deploy/build.sh and the Docker image make)
# must build without a warning too: GCC warns differently at -O3.
release="$build-release"
release_result=ok
if [ -f "$release/build.ninja" ]; then
    meson setup --reconfigure "$release" "$src" --buildtype=release -Dtests=false -Dwerror=true \
        >/dev/null || release_result=failed
else
    meson setup "$release" "$src" --buildtype=release -Dtests=false -Dwerror=true \
        >/dev/null || release_result=failed
fi
if [ "$release_result" = ok ]; then
    ninja -C "$release" -j "$(nproc)" >"$release/build.log" 2>&1 || {
        release_result=failed
        grep -E 'error|warning' "$release/build.log" | head -n 40
    }
fi

servers_result=ok
/usr/bin/python3 "$src/tests/leftover_servers.py" check "$servers_before" || servers_result=failed

/usr/bin/python3 "$src/tests/summarize.py" "$build/meson-logs/testlog.json" \
    --check "release build without warnings=$release_result" \
    --check "no server left running=$servers_result" || status=1
exit "$status"
