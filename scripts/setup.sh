#!/usr/bin/env bash
# Installs everything Hearth needs on a fresh Debian machine, skipping what is already there:
# Debian packages, npm packages, the native supervisor, the TypeScript build and the base template.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "hearth needs root (it creates namespaces, overlay mounts and cgroups): run as root" >&2
  exit 1
fi

# btrfs-progs: the sandboxes filesystem (per-sandbox disk limits through btrfs quota groups).
# criu: pause/resume with memory on the namespaces backend (where the host's kernel and CRIU allow it).
DEBIAN_PACKAGES=(bubblewrap mmdebstrap gcc libc6-dev make iproute2 procps btrfs-progs nftables criu)
# The test suite drives the dashboard in Debian's Chromium.
if [ "${1:-}" = "--with-browser" ]; then DEBIAN_PACKAGES+=(chromium); fi
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# gVisor's runsc for `--backend gvisor`: bookworm's build (20221219) lacks the systrap platform, so it comes
# from trixie, pinned so that nothing else is ever taken from trixie.
if ! command -v runsc >/dev/null 2>&1; then
  step "installing runsc (gVisor) from Debian trixie"
  if [ ! -f /etc/apt/sources.list.d/hearth-trixie.sources ]; then
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      > /etc/apt/sources.list.d/hearth-trixie.sources
  fi
  if [ ! -f /etc/apt/preferences.d/hearth-trixie ]; then
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n\nPackage: runsc\nPin: release n=trixie\nPin-Priority: 990\n' \
      > /etc/apt/preferences.d/hearth-trixie
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends runsc
fi

# The microvm backend: QEMU and the kernel source; the guest kernel is built once and cached (about 5 minutes).
MICROVM_PACKAGES=(qemu-system-x86 linux-source-6.1 bc bison flex libelf-dev libssl-dev e2fsprogs)
missing=()
for package in "${MICROVM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  step "installing the microvm backend's Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
step "building the microVM guest kernel (cached)"
scripts/build-guest-kernel.sh >/dev/null

lock_hash=$(sha256sum package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
if [ ! -f node_modules/.hearth-installed ] || [ "$(cat node_modules/.hearth-installed)" != "$lock_hash" ]; then
  step "installing npm packages (better-sqlite3 compiles from source, about a minute)"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
  echo "$lock_hash" > node_modules/.hearth-installed
fi

step "building the supervisor"
make -s -C native/supervisor

step "compiling TypeScript"
rm -rf dist
npx --no-install tsc -p tsconfig.json

step "preparing the base template"
node bin/hearth.js template build-base --templates-dir "${HEARTH_TEMPLATES_DIR:-/var/lib/hearth/templates}"
