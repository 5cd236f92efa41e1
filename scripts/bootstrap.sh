#!/usr/bin/env bash
# Installs the Debian 12 packages actito-replicator needs to build, test and run its demo.
# Idempotent: only missing packages are installed. Needs root (or sudo) when something is missing.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config ccache git ca-certificates curl
  # libraries (see CMakeLists.txt)
  libboost1.81-all-dev libssl-dev libpqxx-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libgtest-dev libgmock-dev
  # a real PostgreSQL for the tests and the demo (started on its own port, never the system one)
  postgresql
  # util-linux provides runuser and flock
  util-linux procps
  # operator-surface tests: promtool and a real Prometheus (deploy/ rules, scrape config, a
  # scrape of the daemon), headless Chromium for the /status page, systemd-analyze for the unit
  prometheus chromium systemd
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#packages[@]} packages present"
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "bootstrap: run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "bootstrap: done"
