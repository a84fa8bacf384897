#!/usr/bin/env bash
# Build the end-to-end test's initramfs:
#
#   bash tests/e2e/mkinitramfs.sh OUT.cpio.gz KERNEL_DIR TOOLS_DIR
#
# KERNEL_DIR is what fetch.sh extracted (modules/*.ko); TOOLS_DIR holds the
# statically linked vpwr-guest and vpwr-hostd (a VPWR_STATIC_TOOLS build)
# and vportprobe.
# The archive holds busybox (busybox-static), the modules, the tools, /init
# and the scenarios (/e2e/guest.sh, /e2e/*.json).  Nothing in it depends on
# the scenario: the kernel command line picks one (see init).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 3 ] || { echo "usage: mkinitramfs.sh OUT.cpio.gz KERNEL_DIR TOOLS_DIR" >&2; exit 2; }
out=$(realpath -m "$1") kdir=$2 tools=$3

busybox=$(command -v busybox) || { echo "mkinitramfs: no busybox" >&2; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then
	echo "mkinitramfs: $busybox is not static (install busybox-static)" >&2
	exit 1
fi
for t in vpwr-guest vpwr-hostd vportprobe; do
	if [ ! -x "$tools/$t" ] || ldd "$tools/$t" >/dev/null 2>&1; then
		echo "mkinitramfs: $tools/$t is missing or not static" >&2
		exit 1
	fi
done

root=$(mktemp -d "${TMPDIR:-/tmp}/vpwr-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,e2e,lib/modules}
cp "$busybox" "$root/bin/busybox"
cp "$tools/vpwr-guest" "$tools/vpwr-hostd" "$tools/vportprobe" "$root/bin/"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev \
	virtio_pci virtio_console vsock vmw_vsock_virtio_transport_common \
	vmw_vsock_virtio_transport vsock_loopback; do
	cp "$kdir/modules/$m.ko" "$root/lib/modules/"
done
install -m 0755 "$here/init" "$root/init"
cp "$here/guest.sh" "$root/e2e/"
cp "$here"/guest-*.json "$root/e2e/" 2>/dev/null || true

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | sort -z |
	cpio --null -o -H newc --quiet --owner 0:0 | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
