#!/usr/bin/env bash
# Installs the Vulkan loader and Mesa's lavapipe software driver on Debian 12
# (bookworm) so Dawn can give WebGPU an adapter on a machine without a GPU.
# Debian 12's own Mesa (22.3) is too old for Dawn; bookworm-backports' is not.
# The backports mirror is copied from the machine's own debian.sources, so no
# host name is written here. Idempotent: does nothing when lavapipe is present.
set -euo pipefail

if [ -f /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || [ -f /usr/share/vulkan/icd.d/lvp_icd.aarch64.json ]; then
  if dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -qv '^22\.'; then
    echo "install-vulkan: lavapipe already installed ($(dpkg-query -W -f='${Version}' mesa-vulkan-drivers))"
    exit 0
  fi
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

sources=/etc/apt/sources.list.d/debian.sources
if [ ! -f "$sources" ]; then
  echo "install-vulkan: $sources not found; this script knows Debian 12 only" >&2
  exit 1
fi
uri=$(awk '/^URIs:/ { print $2; exit }' "$sources")
if [ -z "$uri" ]; then
  echo "install-vulkan: no URIs line in $sources" >&2
  exit 1
fi

backports=/etc/apt/sources.list.d/backports.sources
if [ ! -f "$backports" ]; then
  $SUDO tee "$backports" >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq libvulkan1 >/dev/null
$SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
echo "install-vulkan: installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
