#!/usr/bin/env bash
# Builds the microVM guest kernel (an uncompressed vmlinux for PVH direct boot) once per config and caches it:
# Debian's linux-source-6.1, allnoconfig, then the shared Firecracker-style config on top. About 270 s on 2 cores,
# so it runs at set-up (niced, -j2: other work shares the cores) and never on a request path.
# Prints the vmlinux path. Usage: build-guest-kernel.sh [config] [cache-root]
set -euo pipefail
cd "$(dirname "$0")/.."

config=${1:-${HEARTH_GUEST_KERNEL_CONFIG:-native/microvm/guest-kernel.config}}
cache_root=${2:-${HEARTH_MICROVM_DIR:-/var/lib/hearth/microvm}/kernel}
source_tarball=/usr/src/linux-source-6.1.tar.xz

if [ ! -f "$source_tarball" ]; then
  echo "no kernel source at $source_tarball: apt-get install linux-source-6.1 bc bison flex libelf-dev libssl-dev" >&2
  exit 1
fi
# The identity of a kernel: its config and the source package version.
source_version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo unknown)
config_abs=$(realpath "$config")
config_hash=$( (cat "$config"; echo "$source_version") | sha256sum | cut -c1-16)
out_dir="$cache_root/$config_hash"
if [ -s "$out_dir/vmlinux" ]; then
  echo "$out_dir/vmlinux"
  exit 0
fi

mkdir -p "$cache_root"
work_dir=$(mktemp -d "$cache_root/.build.XXXXXX")
trap 'rm -rf "$work_dir"' EXIT
echo "building the guest kernel ($config_hash) in $work_dir, about 5 minutes" >&2
tar -xJf "$source_tarball" -C "$work_dir"
src_dir="$work_dir/linux-source-6.1"
make -s -C "$src_dir" allnoconfig >&2
# merge_config.sh applies our fragment over allnoconfig and resolves dependencies (olddefconfig).
(cd "$src_dir" && KCONFIG_CONFIG=.config scripts/kconfig/merge_config.sh -m .config "$config_abs" >&2)
make -s -C "$src_dir" olddefconfig >&2
nice -n 10 make -s -C "$src_dir" -j2 vmlinux >&2

mkdir -p "$out_dir"
cp "$src_dir/vmlinux" "$out_dir/vmlinux.tmp"
cp "$src_dir/.config" "$out_dir/config"
echo "$source_version" > "$out_dir/source-version"
mv "$out_dir/vmlinux.tmp" "$out_dir/vmlinux"
echo "$out_dir/vmlinux"
