#!/usr/bin/env bash
# Installs Claude Code (the npm package @anthropic-ai/claude-code, pinned) into a cached
# directory for omk's end-to-end tests (tests/it/real_claude.rs).
#
# Idempotent: when the pinned version is already installed it only checks a stamp and exits,
# in well under a second. Uses only the npm registry. Progress goes to stderr; the last line of
# stdout is the absolute path of the `claude` executable.
#
# Environment:
#   OMK_CLAUDE_CODE_DIR   where node_modules lives
#                         (default: ${XDG_CACHE_HOME:-$HOME/.cache}/omk/claude-code-<version>)
#   CLAUDE_CODE_VERSION   the version (default 2.1.332, the one omk's tests pin)
set -euo pipefail

VERSION="${CLAUDE_CODE_VERSION:-2.1.332}"
PACKAGE="@anthropic-ai/claude-code"
DIR="${OMK_CLAUDE_CODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/omk/claude-code-$VERSION}"
BIN="$DIR/node_modules/.bin/claude"
STAMP="$DIR/installed"
log() { echo "[install-claude-code] $*" >&2; }

# Fast path: the stamp is written last, so it exists only after a complete install.
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$PACKAGE@$VERSION" ] && [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi

command -v npm >/dev/null 2>&1 || { log "npm is not installed; install Node.js (apt-get install nodejs npm)"; exit 1; }
mkdir -p "$DIR"
rm -f "$STAMP"
log "npm install $PACKAGE@$VERSION into $DIR"
# The package's postinstall puts the native binary of this platform (an optional dependency)
# in place of bin/claude.exe; --no-fund/--no-audit keep npm to the registry's package API.
npm install --prefix "$DIR" --no-save --no-fund --no-audit --no-update-notifier --loglevel=error \
  "$PACKAGE@$VERSION" >&2

# The real probe: the binary runs and reports the pinned version.
reported="$("$BIN" --version 2>/dev/null | head -1 || true)"
log "claude --version: $reported"
case "$reported" in
  "$VERSION "*) ;;
  *) log "claude --version did not report $VERSION"; exit 1 ;;
esac
echo "$PACKAGE@$VERSION" > "$STAMP"
echo "$BIN"
