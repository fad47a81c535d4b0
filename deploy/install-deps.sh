#!/bin/sh
# Installs the Debian 12 packages trestle needs, by purpose:
#   build       compilers, Meson and the libraries' -dev packages
#   runtime     the shared libraries the trestle binary links
#   test        Prosody, ejabberd, ngircd, Postfix, Kannel (with fakesmsc),
#               slixmpp, aiosmtpd and swaks for the integration tests
#   quickstart  Prosody (kept running) and curl for deploy/quickstart.sh
#   image       curl, for the Docker image's health check (inside the image)
#   container   the container check's tools: a Docker engine (docker.io,
#               unless dockerd is there), Compose (docker-compose, unless
#               `docker compose` works) and debootstrap for the base images
#   fuzz        clang and libFuzzer, for the fuzz build
#   bench       biboumi, valgrind and wrk, for the benchmarks (tests/bench/; with `test`)
# Usage (as root): deploy/install-deps.sh build [runtime] [test] ...
#
# XMPP servers that `test` installs are test tools: the tests start their
# own throw-away instances, so the packaged system services are neither
# started nor enabled here. A server that was already installed is left as
# it was.
set -eu

if [ "$#" -eq 0 ]; then
    echo "usage: $0 build|runtime|test|quickstart|image|container|fuzz|bench ..." >&2
    exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo "$0" "$@"
    fi
    echo "$0: run as root (it installs Debian packages)" >&2
    exit 1
fi

packages=""
test_servers=""
for group in "$@"; do
    case "$group" in
        build)
            # Boost 1.81, not Debian's default 1.74: Asio's cancellation
            # slots and parallel groups. Installing it replaces 1.74's -dev
            # packages (they conflict).
            packages="$packages meson ninja-build pkg-config g++ libboost1.81-dev
                libboost-test1.81-dev libxml2-dev libyaml-cpp-dev libsqlite3-dev
                libidn11-dev libssl-dev libgmime-3.0-dev nlohmann-json3-dev ca-certificates" ;;
        runtime)
            packages="$packages libxml2 libyaml-cpp0.7 libsqlite3-0 libidn12 libssl3 libgmime-3.0-0
                ca-certificates" ;;
        test)
            packages="$packages python3 python3-slixmpp python3-aiosmtpd swaks openssl
                util-linux"
            test_servers="$test_servers prosody ejabberd ngircd inspircd atheme-services postfix
                kannel kannel-extras" ;;
        quickstart)
            packages="$packages prosody lua-sec curl util-linux openssl" ;;
        image)
            # The Docker image's HEALTHCHECK fetches /healthz with curl.
            packages="$packages curl" ;;
        container)
            # Docker's own packages (docker-ce) conflict with Debian's: keep
            # an engine or a Compose that is there already.
            packages="$packages debootstrap ca-certificates"
            command -v dockerd >/dev/null 2>&1 || packages="$packages docker.io"
            if ! docker compose version >/dev/null 2>&1 &&
                ! command -v docker-compose >/dev/null 2>&1; then
                packages="$packages docker-compose"
            fi ;;
        fuzz)
            packages="$packages clang libclang-rt-14-dev" ;;
        bench)
            # biboumi is the gateway trestle is compared with; like the test
            # servers it must not start as a system service.
            packages="$packages valgrind wrk"
            test_servers="$test_servers biboumi" ;;
        *)
            echo "$0: unknown group '$group'" >&2
            exit 2 ;;
    esac
done

export DEBIAN_FRONTEND=noninteractive
apt_install() {
    apt-get install -y --no-install-recommends "$@"
}

installed() {
    dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}
updated=false
update_once() {
    $updated || apt-get update
    updated=true
}

# Only what is missing: a machine that has everything needs no mirror (an
# image build, a second test run).
missing=""
for pkg in $packages; do
    installed "$pkg" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    update_once
    # shellcheck disable=SC2086 # the lists are meant to split into words
    apt_install $missing
fi

new_servers=""
for pkg in $test_servers; do
    installed "$pkg" || new_servers="$new_servers $pkg"
done
if [ -n "$new_servers" ]; then
    # Keep the freshly installed servers from starting as system services.
    policy=/usr/sbin/policy-rc.d
    own_policy=false
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own_policy=true
    fi
    # Postfix as a test tool: no system configuration (the tests run their
    # own instance), so its installer asks nothing.
    if command -v debconf-set-selections >/dev/null 2>&1; then
        echo "postfix postfix/main_mailer_type select No configuration" |
            debconf-set-selections
    fi
    update_once
    # shellcheck disable=SC2086
    apt_install $new_servers || { $own_policy && rm -f "$policy"; exit 1; }
    if $own_policy; then
        rm -f "$policy"
    fi
    if [ -d /run/systemd/system ]; then
        # shellcheck disable=SC2086
        systemctl disable --now $new_servers >/dev/null 2>&1 || true
    fi
fi
exit 0
