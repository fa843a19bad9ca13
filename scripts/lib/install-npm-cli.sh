# Shared body of the installers of the agent CLIs published on the npm registry
# (scripts/install-claude-code.sh, scripts/install-codex.sh). Sourced, not run.
#
# The caller sets:
#   NAME      the installer's name, for messages ("install-codex")
#   PACKAGE   the npm package ("@openai/codex")
#   VERSION   the pinned version
#   DIR       where node_modules lives
#   PROGRAM   the executable in node_modules/.bin ("codex")
#   REPORTS   a shell pattern that `PROGRAM --version`'s first line must match
# and then calls install_npm_cli. The stamp is written last, so it exists only after a complete
# install; with it present the installer only checks it, in well under a second. Progress goes to
# stderr; the last line of stdout is the absolute path of the executable.

install_npm_cli() {
  local bin="$DIR/node_modules/.bin/$PROGRAM" stamp="$DIR/installed" reported
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$PACKAGE@$VERSION" ] && [ -x "$bin" ]; then
    echo "$bin"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "[$NAME] npm is not installed; install Node.js (apt-get install nodejs npm)" >&2
    return 1
  fi
  mkdir -p "$DIR"
  rm -f "$stamp"
  echo "[$NAME] npm install $PACKAGE@$VERSION into $DIR" >&2
  # The package's native binary comes in an optional dependency for this platform;
  # --no-fund/--no-audit keep npm to the registry's package API.
  npm install --prefix "$DIR" --no-save --no-fund --no-audit --no-update-notifier --loglevel=error \
    "$PACKAGE@$VERSION" >&2
  # The real probe: the binary runs and reports the pinned version.
  reported="$("$bin" --version 2>/dev/null | head -1 || true)"
  echo "[$NAME] $PROGRAM --version: $reported" >&2
  # shellcheck disable=SC2254 # REPORTS is a pattern
  case "$reported" in
    $REPORTS) ;;
    *) echo "[$NAME] $PROGRAM --version did not report $VERSION" >&2; return 1 ;;
  esac
  echo "$PACKAGE@$VERSION" > "$stamp"
  echo "$bin"
}
