#!/usr/bin/env bash
# Install every Debian package urna builds and runs with. Safe to run again:
# apt-get skips what is present, and the update runs only when a package is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev valgrind
  librdkafka-dev libgrpc-dev libprotobuf-c-dev protobuf-c-compiler
  protobuf-compiler protobuf-compiler-grpc libhiredis-dev libmongoc-dev
  libbson-dev libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev uuid-dev
  nginx redis-server supervisor openjdk-17-jre-headless maven
  python3-grpcio python3-protobuf python3-venv python3-pytest python3-redis
  python3-pymongo python3-requests python3-jsonschema python3-yaml kcat wrk curl jq
  libunistring-dev chromium prometheus python3-matplotlib linux-perf
)

sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd="sudo"
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} Debian packages are present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} Debian packages: ${missing[*]}"
$sudo_cmd apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"

# Debian starts these daemons on install; urna runs its own copies on its own
# data folders under supervisor, so the system-wide ones only hold the ports.
for unit in nginx redis-server supervisor prometheus; do
  $sudo_cmd systemctl disable --now "$unit" >/dev/null 2>&1 || $sudo_cmd service "$unit" stop >/dev/null 2>&1 || true
done
