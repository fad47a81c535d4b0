#!/bin/sh
# Makes the Debian 12 base images that trestle's Dockerfiles start from,
# debian:12 and debian:12-slim, out of Debian's own packages, for a Docker
# host that cannot pull them from a registry. An image that is already there
# is left as it is (--force makes it again).
#
# Usage (as root): deploy/docker/make-base-images.sh [--force]
# Needs debootstrap and a running Docker engine (deploy/install-deps.sh
# container installs both). DEBIAN_MIRROR overrides the mirror
# (default http://deb.debian.org/debian; security updates come from
# DEBIAN_SECURITY_MIRROR, default http://deb.debian.org/debian-security).
#
# The images follow the official ones (debuerreotype): a minbase bootstrap of
# bookworm with its updates and security updates, apt and dpkg set up for
# image builds (no caches, no translations, compressed indexes, no services
# started by package scripts), no apt lists, an empty machine-id, and CMD bash.
# The slim image also leaves out documentation, man pages and locales, and
# keeps leaving them out for what is installed later.
set -eu

suite=bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
force=false
case "${1:-}" in
    --force) force=true ;;
    "") ;;
    *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
    echo "$0: run as root (debootstrap needs it)" >&2
    exit 1
fi
for tool in debootstrap docker; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$0: $tool is missing: deploy/install-deps.sh container installs it" >&2
        exit 1
    fi
done
if ! docker info >/dev/null 2>&1; then
    echo "$0: no Docker engine answers (is dockerd running?)" >&2
    exit 1
fi

have_image() {
    docker image inspect "$1" >/dev/null 2>&1
}

if ! $force && have_image debian:12 && have_image debian:12-slim; then
    echo "debian:12 and debian:12-slim are there already"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

echo "debootstrap: $suite (minbase) from $mirror"
debootstrap --variant=minbase --components=main "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    echo "$0: debootstrap failed" >&2
    exit 1
}

# Sources as in the official image: deb822, with updates and security.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

# Package scripts must not start services inside an image build.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
echo 'force-unsafe-io' >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
conf="$root/etc/apt/apt.conf.d"
echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$conf/docker-autoremove-suggests"
printf 'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' >"$conf/docker-clean"
echo 'Acquire::GzipIndexes "true";' >"$conf/docker-gzip-indexes"
echo 'Acquire::Languages "none";' >"$conf/docker-no-languages"

echo "updates: $suite-updates and $suite-security"
cp /etc/resolv.conf "$root/etc/resolv.conf"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c 'apt-get update && apt-get -y dist-upgrade' >"$work/update.log" 2>&1 || {
    tail -n 30 "$work/update.log" >&2
    echo "$0: cannot update the bootstrapped system from $mirror" >&2
    exit 1
}

# What an image must not carry: caches, lists, logs, this host's identity.
tidy() {
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
        "$root"/var/cache/ldconfig/aux-cache "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*
    find "$root/var/log" -type f -exec truncate -s 0 {} +
    : >"$root/etc/resolv.conf"
    : >"$root/etc/machine-id"
    rm -f "$root/var/lib/dbus/machine-id"
    echo localhost >"$root/etc/hostname"
}

import() {
    tag=$1
    echo "import: $tag"
    tar --numeric-owner --xattrs -C "$root" -c . |
        docker import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["bash"]' \
            --message "Debian $suite ($tag) from debootstrap" - "$tag" >/dev/null
}

tidy
import debian:12

# Slim, as debuerreotype-slimify: no documentation, man pages or locales,
# now or from later installs (copyright files stay).
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/man/* "$root"/usr/share/groff/* "$root"/usr/share/info/* \
    "$root"/usr/share/lintian/* "$root"/usr/share/linda/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
import debian:12-slim

docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^debian:12'
