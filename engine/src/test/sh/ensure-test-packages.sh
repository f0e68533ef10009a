#!/usr/bin/env bash
# Integration tests drive real programs from Debian's packages (ConsoleIT: chromium and chromium-driver;
# MonitoringIT: prometheus and promtool).
# Arguments: BINARY:PACKAGE pairs. On a fresh machine, running as root, the missing packages are installed with
# apt-get (once); otherwise this says what is missing and fails. Skip with -Dskip.test.packages.
set -euo pipefail
missing=()
for pair in "$@"; do
  binary=${pair%%:*}
  package=${pair#*:}
  if [[ ! -x "$binary" ]]; then
    missing+=("$package")
  fi
done
if [[ ${#missing[@]} == 0 ]]; then
  exit 0
fi
readarray -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "ensure-test-packages: installing ${missing[*]} with apt-get (for the integration tests)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
else
  echo "ensure-test-packages: missing Debian packages: ${missing[*]}; install them (as root: apt-get install" \
       "${missing[*]}), or build with -Dskip.test.packages (the tests that need them then fail)" >&2
  exit 1
fi
