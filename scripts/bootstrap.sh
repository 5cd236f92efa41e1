#!/usr/bin/env bash
# Installs the Debian 12 packages actito-replicator needs to build, test and run its demo.
# Idempotent: only missing packages are installed. Needs root (or sudo) when something is missing.
#   bash scripts/bootstrap.sh                  everything to build, test and run the demo
#   bash scripts/bootstrap.sh --runtime        only what the built binaries need to run (the
#                                              container's runtime stage, deploy/Dockerfile)
#   bash scripts/bootstrap.sh --list-runtime   print that runtime list, one package a line
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config ccache git ca-certificates curl
  # libraries (see CMakeLists.txt)
  libboost1.81-all-dev libssl-dev libpqxx-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libgtest-dev libgmock-dev
  # a real PostgreSQL for the tests and the demo (started on its own port, never the system one)
  postgresql
  # util-linux provides runuser and flock; tzdata is the time zone database (timestamp_zone)
  util-linux procps tzdata
  # operator-surface tests: promtool and a real Prometheus (deploy/ rules, scrape config, a
  # scrape of the daemon), headless Chromium for the /status page, systemd-analyze for the unit
  prometheus chromium systemd
  # the https path end to end: openssl makes a throwaway CA and certificate, socat terminates
  # TLS in front of the simulator (tests/tls)
  openssl socat
)

# What actito-replicator and actito-sim need at run time, and nothing else: the shared libraries
# they link directly (libc6, libgcc-s1 and libstdc++6 are in every Debian image) plus the CA
# bundle that TLS verification of the Actito API reads and the time zone database that named
# timestamp_zone values are read from. Transitive libraries (libpq5, Kerberos,
# ...) come in as dependencies of these. tests/deploy checks this list against `ldd` of the
# built binaries, so the slim image cannot miss a library.
runtime_packages=(
  libpqxx-6.4 libyaml-cpp0.7 libspdlog1.10 libfmt9 libprometheus-cpp-core1.0 libssl3
  ca-certificates tzdata
)

case "${1:-}" in
  "") ;;
  --runtime) packages=("${runtime_packages[@]}") ;;
  --list-runtime)
    printf '%s\n' "${runtime_packages[@]}"
    exit 0
    ;;
  *)
    echo "usage: $0 [--runtime | --list-runtime]" >&2
    exit 2
    ;;
esac

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
