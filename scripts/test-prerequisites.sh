#!/usr/bin/env bash
# What the test suite needs besides node_modules: PostgreSQL and Redis on loopback, and Debian's Chromium (browser
# tests) and Prometheus (the metrics end-to-end test). Starts the servers when they are down and installs Chromium
# and Prometheus when they are missing and this user may (root, or passwordless sudo); otherwise it stops with one
# line naming what to install. `pnpm test` and .ci/run both call it, so a fresh machine gets the same suite either way.
set -euo pipefail

say() { echo "test-prerequisites: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1
  fi
}

postgres_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }

if ! postgres_up; then
  say "starting PostgreSQL"
  version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -n 1)
  if [ -z "$version" ] || ! as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start; then
    say "PostgreSQL is not running on 127.0.0.1:5432 and could not be started: install and start PostgreSQL 15 (Debian: postgresql) with trust auth and a database 'test'"
    exit 1
  fi
fi
if ! redis_up; then
  say "starting Redis"
  if ! command -v redis-server >/dev/null 2>&1 ||
    ! redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null; then
    say "Redis is not running on 127.0.0.1:6379 and could not be started: install redis-server (Debian: redis-server)"
    exit 1
  fi
fi
for _ in $(seq 1 30); do
  if postgres_up && redis_up; then break; fi
  sleep 1
done
postgres_up || { say "PostgreSQL did not come up on 127.0.0.1:5432"; exit 1; }
redis_up || { say "Redis did not come up on 127.0.0.1:6379"; exit 1; }

chromium_path=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$chromium_path" ]; then
  if ! as_root true 2>/dev/null; then
    say "Chromium is missing at $chromium_path and this user may not install it: run 'apt-get install chromium' as root (or set CHROMIUM_PATH)"
    exit 1
  fi
  say "installing Debian's chromium for the browser tests"
  if ! as_root env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -qq && apt-get install -y -qq chromium >/dev/null'; then
    say "installing Chromium failed: run 'apt-get install chromium' as root (or set CHROMIUM_PATH)"
    exit 1
  fi
fi

prometheus_path=${PROMETHEUS_PATH:-/usr/bin/prometheus}
if [ ! -x "$prometheus_path" ]; then
  if ! as_root true 2>/dev/null; then
    say "Prometheus is missing at $prometheus_path and this user may not install it: run 'apt-get install prometheus' as root (or set PROMETHEUS_PATH)"
    exit 1
  fi
  say "installing Debian's prometheus for the metrics end-to-end test"
  # Only the binary is used (the test starts its own on a loopback port); the packaged service stays stopped.
  if ! as_root env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null'; then
    say "installing Prometheus failed: run 'apt-get install prometheus' as root (or set PROMETHEUS_PATH)"
    exit 1
  fi
fi
