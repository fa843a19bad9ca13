#!/usr/bin/env bash
# Installs Chromium's headless shell (Debian's package chromium-headless-shell) for omk's tests
# that render HTML (the tests read its path from OMK_CHROMIUM).
#
# Idempotent: when /usr/bin/chromium-headless-shell is already there it only checks that it runs
# and exits. Uses only the package registry (apt-get; `apt-get update` first when the package is
# not in apt's lists yet). Needs root (or sudo) when it installs. Progress goes to stderr; the
# last line of stdout is the absolute path of the executable.
#
# Environment:
#   OMK_CHROMIUM_BIN   the executable to check and print
#                      (default /usr/bin/chromium-headless-shell, where the package puts it)
set -euo pipefail

PACKAGE=chromium-headless-shell
BIN="${OMK_CHROMIUM_BIN:-/usr/bin/chromium-headless-shell}"
log() { echo "[install-chromium] $*" >&2; }

# Fast path: the package's executable exists and answers --version.
if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 \
  || { log "apt-get is not available; install $PACKAGE (or any headless Chromium) and set OMK_CHROMIUM_BIN"; exit 1; }
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { log "installing $PACKAGE needs root; run as root or install sudo"; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show "$PACKAGE" >/dev/null 2>&1; then
  log "apt-get update (apt does not know $PACKAGE yet)"
  "${sudo[@]}" apt-get -qq update >&2
fi
log "apt-get install $PACKAGE"
"${sudo[@]}" apt-get -qq install -y --no-install-recommends "$PACKAGE" >&2

reported="$("$BIN" --version 2>/dev/null | head -1 || true)"
log "$BIN --version: $reported"
[ -n "$reported" ] || { log "$BIN does not run after installing $PACKAGE"; exit 1; }
echo "$BIN"
