#!/usr/bin/env bash
# Debian packages the product and its tests need, installed only when missing (as root or via sudo).
#   runtime: a Vietnamese-capable TrueType font for printed tickets (DejaVu Sans), and espeak-ng,
#            which generates the default voice clips for announcements, and Chart.js (libjs-chart.js),
#            which draws the report charts from the server itself (halls are often offline)
#   test:    the runtime set, plus Chromium for the page tests
set -euo pipefail
need=()
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] \
  || need+=(fonts-dejavu-core)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
[ -f /usr/share/javascript/chart.js/chart.min.js ] || need+=(libjs-chart.js)
if [ "${1:-runtime}" = test ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing Debian packages: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
