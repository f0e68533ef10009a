#!/usr/bin/env bash
# ConsoleIT drives Debian's Chromium through chromium-driver. On a fresh machine, running as root, install both
# with apt-get (once); otherwise say what is missing. Skip with -Dskip.chromium (then ConsoleIT needs
# -Dinferium.chromium=... and -Dinferium.chromedriver=... or the Debian paths).
set -euo pipefail
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  exit 0
fi
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "ensure-chromium: installing chromium and chromium-driver with apt-get (for ConsoleIT)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends chromium chromium-driver >&2
else
  echo "ensure-chromium: /usr/bin/chromium or /usr/bin/chromedriver is missing; install the Debian packages" \
       "'chromium chromium-driver' (as root: apt-get install chromium chromium-driver), or build with -Dskip.chromium" >&2
  exit 1
fi
