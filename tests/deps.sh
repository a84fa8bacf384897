# shellcheck shell=bash
# The Debian 12 packages libvpwr needs to build and run every test: the one
# place the list lives.  Source this file, then call
#
#   vpwr_deps_install [EXTRA_PACKAGE...]
#
# which installs whatever of VPWR_DEPS (plus the extras, e.g. the demo's
# own) is missing, and does not touch apt at all when everything is there.
# `bash tests/deps.sh [EXTRA...]` does the same from the command line, and
# `bash tests/deps.sh --list` prints the list.

# What tests/e2e/ boots a real guest with (the kernel itself is fetched
# with `apt-get download`, never installed), and the libvirtd it also boots
# it under (tests/e2e/libvirt.sh): the daemon, its QEMU driver and virsh,
# not libvirt-daemon-system (no service, no default network, no users).
VPWR_E2E_DEPS=(qemu-system-x86 busybox-static cpio
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)

VPWR_DEPS=(
	cmake gcc make pkg-config       # build
	check                           # unit tests
	libjansson-dev                  # the library's hard dependencies: jansson
	libyajl-dev                     # and yajl (JSON codec's decoder)
	libvirt-dev libxml2-dev         # libvirt resolver (domain XML: libxml2)
	libpci-dev                      # SR-IOV traffic source
	swig python3-dev python3-pytest # Python bindings and their tests
	python3-matplotlib              # vpwr.experiment's PNG plots (and their test)
	abigail-tools                   # ABI gate (abidw, abidiff)
	valgrind                        # memcheck over the unit suites
	clang libclang-rt-14-dev        # ASan/UBSan build, fuzzers
	libdpdk-dev                     # DPDK's guest-channel header (wire compatibility)
	"${VPWR_E2E_DEPS[@]}"           # the QEMU end-to-end test (tests/e2e/)
)

# Print the packages among "$@" that are not installed, one per line.
vpwr_deps_missing() {
	local p
	for p in "$@"; do
		if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
			echo "$p"
		fi
	done
}

# Install what is missing of VPWR_DEPS and "$@".  Returns non-zero if apt
# fails or if packages are missing and we are neither root nor able to sudo.
vpwr_deps_install() {
	vpwr_pkgs_install "${VPWR_DEPS[@]}" "$@"
}

# Install what is missing of exactly "$@" (e.g. "${VPWR_E2E_DEPS[@]}").
vpwr_pkgs_install() {
	local missing sudo=()
	mapfile -t missing < <(vpwr_deps_missing "$@")
	if [ ${#missing[@]} -eq 0 ]; then
		echo "deps: all $# packages are installed"
		return 0
	fi
	echo "deps: installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			sudo=(sudo -n)
		else
			echo "deps: missing packages and not root: run as root, or:" >&2
			echo "  apt-get install ${missing[*]}" >&2
			return 1
		fi
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null || return 1
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" </dev/null || return 1
	mapfile -t missing < <(vpwr_deps_missing "$@")
	if [ ${#missing[@]} -ne 0 ]; then
		echo "deps: still missing after apt-get install: ${missing[*]}" >&2
		return 1
	fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	if [ "${1:-}" = --list ]; then
		printf '%s\n' "${VPWR_DEPS[@]}"
		exit 0
	fi
	vpwr_deps_install "$@"
fi
