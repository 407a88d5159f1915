#!/usr/bin/env bash
# Install what load tests and the benchmark need, each step skipped when done:
#   - Debian packages: prometheus (scrapes the stack during `make bench`),
#     python3-matplotlib (draws the benchmark chart), linux-perf (profiles);
#   - .venv-load/: a virtual environment with Locust pinned from PyPI, so
#     Debian's python3-locust, if installed, is never imported;
#   - .tools/bin/vegeta: the open-loop HTTP load generator, built with
#     `go install` from the Go module proxy.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv-load"
tools_bin="$root/.tools/bin"
locust_version=2.47.0
vegeta_version=v12.13.0
debian_packages=(prometheus python3-matplotlib python3-venv linux-perf wrk)

sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd="sudo"
fi

install_debian_packages() {
  local missing=() pkg
  for pkg in "${debian_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "load-setup: installing Debian packages: ${missing[*]}"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
  # Debian starts a system-wide Prometheus on :9090 at install; the benchmark
  # runs its own copy with its own config and port.
  $sudo_cmd systemctl disable --now prometheus >/dev/null 2>&1 ||
    $sudo_cmd service prometheus stop >/dev/null 2>&1 || true
}

install_locust() {
  if [ -x "$venv/bin/locust" ] && "$venv/bin/locust" --version 2>/dev/null | grep -q " $locust_version"; then
    return 0
  fi
  echo "load-setup: creating $venv with locust==$locust_version from PyPI"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "locust==$locust_version"
}

# Prints the path of a Go toolchain, installing Go 1.23 from Debian backports
# when the machine has none.
go_command() {
  if command -v go >/dev/null 2>&1; then
    command -v go
    return 0
  fi
  if [ ! -x /usr/lib/go-1.23/bin/go ]; then
    "$root/scripts/install-go.sh" >&2
  fi
  echo /usr/lib/go-1.23/bin/go
}

install_vegeta() {
  local go
  if [ -x "$tools_bin/vegeta" ] && "$tools_bin/vegeta" -version 2>/dev/null | grep -q "$vegeta_version"; then
    return 0
  fi
  go=$(go_command)
  echo "load-setup: building vegeta $vegeta_version into $tools_bin"
  mkdir -p "$tools_bin"
  # The -X flag stamps the version, which `go install` leaves empty otherwise.
  GOBIN="$tools_bin" GOTOOLCHAIN=auto "$go" install \
    -ldflags "-X main.Version=$vegeta_version" "github.com/tsenart/vegeta/v12@$vegeta_version"
}

install_debian_packages
install_locust
install_vegeta
echo "load-setup: Locust $locust_version in $venv, vegeta $vegeta_version in $tools_bin, Prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}')"
