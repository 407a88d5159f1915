#!/usr/bin/env bash
# Install Go 1.23 from bookworm-backports, for machines without a Go toolchain.
set -euo pipefail
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
echo "deb http://deb.debian.org/debian bookworm-backports main" | $sudo_cmd tee /etc/apt/sources.list.d/urna-backports.list >/dev/null
$sudo_cmd apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q -t bookworm-backports golang-1.23-go
