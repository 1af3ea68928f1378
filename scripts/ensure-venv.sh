#!/usr/bin/env bash
# Creates .venv with Python 3.11+. On a fresh Debian, `python3 -m venv` needs the python3-venv
# package; install it when missing (as root, or through sudo).
set -euo pipefail
VENV=${1:-.venv}
[ -x "$VENV/bin/python" ] && exit 0
PY=$(command -v python3.11 || command -v python3)
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
if ! "$PY" -m venv "$VENV" 2>/dev/null; then
  rm -rf "$VENV"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing the Debian package python3-venv (needed to create $VENV)"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq python3-venv
  "$PY" -m venv "$VENV"
fi
