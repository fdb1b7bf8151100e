#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through Playwright (executable_path=/usr/bin/chromium);
# Playwright's own browser download is not used. Install the Debian package when it is missing.
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
echo "ensure-chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
