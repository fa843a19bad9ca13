#!/usr/bin/env bash
# Installs Codex (the npm package @openai/codex, pinned) into a cached
# directory for omk's end-to-end tests (tests/it/real_codex.rs).
#
# Idempotent: when the pinned version is already installed it only checks a stamp and exits,
# in well under a second. Uses only the npm registry. Progress goes to stderr; the last line of
# stdout is the absolute path of the `codex` executable.
#
# Environment:
#   OMK_CODEX_DIR         where node_modules lives
#                         (default: ${XDG_CACHE_HOME:-$HOME/.cache}/omk/codex-<version>)
#   CODEX_VERSION         the version (default 0.171.0, the one omk's tests pin)
set -euo pipefail

VERSION="${CODEX_VERSION:-0.171.0}"
PACKAGE="@openai/codex"
DIR="${OMK_CODEX_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/omk/codex-$VERSION}"
BIN="$DIR/node_modules/.bin/codex"
STAMP="$DIR/installed"
log() { echo "[install-codex] $*" >&2; }

# Fast path: the stamp is written last, so it exists only after a complete install.
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$PACKAGE@$VERSION" ] && [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi

command -v npm >/dev/null 2>&1 || { log "npm is not installed; install Node.js (apt-get install nodejs npm)"; exit 1; }
mkdir -p "$DIR"
rm -f "$STAMP"
log "npm install $PACKAGE@$VERSION into $DIR"
# bin/codex.js starts the native binary of this platform's optional dependency
# (@openai/codex-linux-x64); --no-fund/--no-audit keep npm to the registry's package API.
npm install --prefix "$DIR" --no-save --no-fund --no-audit --no-update-notifier --loglevel=error \
  "$PACKAGE@$VERSION" >&2

# The real probe: the binary runs and reports the pinned version.
reported="$("$BIN" --version 2>/dev/null | head -1 || true)"
log "codex --version: $reported"
case "$reported" in
  "codex-cli $VERSION") ;;
  *) log "codex --version did not report $VERSION"; exit 1 ;;
esac
echo "$PACKAGE@$VERSION" > "$STAMP"
echo "$BIN"
