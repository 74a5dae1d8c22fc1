#!/usr/bin/env bash
# Installs the command-line tools the deployment tests (tests/deploy) run, from Debian's
# packages, when they are missing:
#   prometheus      -> /usr/bin/prometheus (live scrape test) and /usr/bin/promtool
#                      (rule checks and rule unit tests)
#   docker-compose  -> validates deploy/docker-compose.yml (`docker-compose config`; no
#                      Docker engine needed)
# Idempotent: does nothing when every tool is present. Needs root (or sudo) for apt-get.
set -euo pipefail

packages=()
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  packages+=(prometheus)
fi
if ! command -v docker-compose >/dev/null 2>&1; then
  packages+=(docker-compose)
fi

if [ "${#packages[@]}" -eq 0 ]; then
  echo "install-prometheus: prometheus, promtool and docker-compose already installed"
  exit 0
fi

run_as_root=()
if [ "$(id -u)" -ne 0 ]; then
  run_as_root=(sudo)
fi

echo "install-prometheus: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
"${run_as_root[@]}" apt-get update -qq
"${run_as_root[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"

# The Debian package registers a system service; the tests start their own server on a
# loopback port, so a packaged instance is not needed (and is not started without systemd).
prometheus --version 2>&1 | head -n 1
promtool --version 2>&1 | head -n 1
docker-compose version --short
