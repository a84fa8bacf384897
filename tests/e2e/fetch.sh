#!/usr/bin/env bash
# Fetch what the end-to-end test boots a guest with:
#
#   bash tests/e2e/fetch.sh CACHE_DIR
#
#   - installs the e2e packages of tests/deps.sh (VPWR_E2E_DEPS: QEMU,
#     busybox-static, cpio) if they are missing;
#   - downloads Debian's cloud kernel package with `apt-get download` (never
#     installs it) into CACHE_DIR/debs/ and extracts only what the guest
#     needs into CACHE_DIR/kernel/:
#         vmlinuz          the kernel
#         modules/*.ko     virtio, virtio_console and vsock modules
#         VERSION          the kernel release (6.1.0-NN-cloud-amd64)
#
# Idempotent: a kernel already extracted for the package apt currently
# offers is kept, and with no package lists or no archive at all (offline)
# the cached kernel is used as is.  Exit status: 0 ready, 77 cannot be made
# ready (a package or the kernel is missing and cannot be fetched), 1 other
# errors.  Messages go to stderr.
set -uo pipefail
exec </dev/null

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../deps.sh
. "$here/../deps.sh"

say() { printf 'fetch: %s\n' "$*" >&2; }

[ $# -eq 1 ] || { say "usage: fetch.sh CACHE_DIR"; exit 1; }
cache=$(realpath -m "$1")
mkdir -p "$cache/debs" || exit 1

# ------------------------------------------------------------ packages
if [ -n "$(vpwr_deps_missing "${VPWR_E2E_DEPS[@]}")" ]; then
	if ! vpwr_pkgs_install "${VPWR_E2E_DEPS[@]}" >&2; then
		say "cannot install ${VPWR_E2E_DEPS[*]}"
		exit 77
	fi
fi
for tool in qemu-system-x86_64 busybox cpio; do
	if ! command -v "$tool" >/dev/null; then
		say "$tool not found after installing ${VPWR_E2E_DEPS[*]}"
		exit 77
	fi
done
# busybox-static replaces /bin/busybox; a dynamic one would need its
# libraries in the initramfs.
if ldd "$(command -v busybox)" >/dev/null 2>&1; then
	say "$(command -v busybox) is not statically linked (install busybox-static)"
	exit 77
fi

# -------------------------------------------------------------- kernel
# The kernel package behind the cloud meta-package, e.g.
# linux-image-6.1.0-56-cloud-amd64.
kernel_pkg() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '/Depends: linux-image-/{print $2; exit}'
}

have_kernel() { # [RELEASE]: the cache holds a complete kernel (of RELEASE)
	[ -s "$cache/kernel/vmlinuz" ] && [ -s "$cache/kernel/VERSION" ] &&
		[ -s "$cache/kernel/modules/virtio_console.ko" ] &&
		[ -s "$cache/kernel/modules/vsock_loopback.ko" ] &&
		{ [ $# -eq 0 ] || [ "$(cat "$cache/kernel/VERSION")" = "$1" ]; }
}

pkg=$(kernel_pkg)
if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ] && ! have_kernel; then
	say "no package lists: apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update >&2 || true
	pkg=$(kernel_pkg)
fi
if [ -z "$pkg" ]; then
	if have_kernel; then
		say "apt knows no linux-image-cloud-amd64: using the cached kernel $(cat "$cache/kernel/VERSION")"
		exit 0
	fi
	say "apt knows no linux-image-cloud-amd64 and nothing is cached in $cache"
	exit 77
fi
release=${pkg#linux-image-}
if have_kernel "$release"; then
	say "kernel $release (cached)"
	exit 0
fi

deb=$(ls "$cache/debs/${pkg}_"*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
	say "downloading $pkg"
	# apt's _apt user cannot write here when we are root: that is only a
	# warning; the download itself is checked below.
	if ! (cd "$cache/debs" && timeout -k 10 600 apt-get download "$pkg") \
		>"$cache/download.log" 2>&1; then
		say "apt-get download $pkg failed:"
		cat "$cache/download.log" >&2
	fi
	deb=$(ls "$cache/debs/${pkg}_"*.deb 2>/dev/null | head -n 1)
fi
if [ -z "$deb" ]; then
	if have_kernel; then
		say "cannot download $pkg: using the cached kernel $(cat "$cache/kernel/VERSION")"
		exit 0
	fi
	say "cannot download $pkg and nothing is cached in $cache"
	exit 77
fi

tmp=$(mktemp -d "$cache/extract.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
if ! dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards \
	"./boot/vmlinuz-*" \
	"./lib/modules/*/kernel/drivers/virtio/*" \
	"./lib/modules/*/kernel/drivers/char/virtio_console.ko*" \
	"./lib/modules/*/kernel/net/vmw_vsock/*"; then
	say "cannot extract $deb (removing it)"
	rm -f "$deb"
	exit 1
fi
mkdir -p "$tmp/kernel/modules"
mv "$tmp"/boot/vmlinuz-* "$tmp/kernel/vmlinuz" &&
	find "$tmp/lib/modules" -name '*.ko*' -exec mv {} "$tmp/kernel/modules/" \; &&
	echo "$release" >"$tmp/kernel/VERSION" || exit 1
rm -rf "$cache/kernel.old"
[ -d "$cache/kernel" ] && mv "$cache/kernel" "$cache/kernel.old"
mv "$tmp/kernel" "$cache/kernel" || exit 1
rm -rf "$cache/kernel.old"
# Keep only the package of the kernel in use.
find "$cache/debs" -name '*.deb' ! -name "$(basename "$deb")" -delete
if ! have_kernel "$release"; then
	say "the package $deb lacks vmlinuz or the virtio/vsock modules"
	exit 1
fi
say "kernel $release ready in $cache/kernel"
