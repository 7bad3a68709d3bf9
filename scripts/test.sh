#!/usr/bin/env bash
# Runs the whole suite: type check (part of the build), unit tests, then end-to-end tests against a real server.
set -euo pipefail
cd "$(dirname "$0")/.."
export HEARTH_TEMPLATES_DIR="${HEARTH_TEMPLATES_DIR:-/var/lib/hearth/templates}"
# This run's id: its test servers' cgroups and its temporary directories carry it, so the closing leak check
# judges this run alone, not what an interrupted earlier run left on the host.
export HEARTH_TEST_RUN="${HEARTH_TEST_RUN:-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')}"
mapfile -t test_files < <(find dist/test -name '*.test.js' | sort)
if [ "${#test_files[@]}" -eq 0 ]; then
  echo "no compiled tests under dist/test" >&2
  exit 1
fi
exec node --test --test-concurrency=1 --test-timeout=300000 "${test_files[@]}"
