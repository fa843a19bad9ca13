#!/usr/bin/env bash
# Installs the in-toto Python library (pinned, with securesystemslib and cryptography) into a
# cached venv, so omk's end-to-end tests can check exported bundles with a standard verifier
# (tests/data/verify-intoto.py, run by tests/it/proof_verify.rs).
#
# Idempotent: when the pinned set is installed it only checks a stamp and exits. Uses only PyPI.
# Progress goes to stderr; the last line of stdout is the absolute path of the venv's python.
#
# Environment:
#   OMK_IN_TOTO_DIR  where the venv lives
#                    (default: ${XDG_CACHE_HOME:-$HOME/.cache}/omk/in-toto-<version>)
#   IN_TOTO_PYTHON   an interpreter to use; it must pass the probe below
set -euo pipefail

VERSION="3.1.0"
# The whole resolved set, pinned, so every machine verifies with the same code.
PACKAGES=(
  "in-toto==$VERSION"
  "securesystemslib==1.6.0"
  "cryptography==50.0.2"
  "cffi==2.1.1"
  "pycparser==3.12"
  "attrs==26.1.0"
  "iso8601==2.1.0"
  "pathspec==1.1.1"
  "python-dateutil==4.0.0"
  "tzdata==2026.6"
)
DIR="${OMK_IN_TOTO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/omk/in-toto-$VERSION}"
VENV="$DIR/venv"
STAMP="$DIR/installed"
WANT="${PACKAGES[*]}"
log() { echo "[install-in-toto] $*" >&2; }

check_venv() {
  "$VENV/bin/python" -c 'import in_toto.models.metadata, securesystemslib.signer, cryptography' 2>/dev/null
}

# Fast path: the stamp is written last, so it exists only after a complete install.
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/python" ] && check_venv; then
  echo "$VENV/bin/python"
  exit 0
fi

# in-toto 3.1 needs Python >= 3.9; the probe also needs venv and ensurepip (Debian splits
# them out of the interpreter package).
probe_python() {
  "$1" - <<'PY' >/dev/null 2>&1
import sys
assert sys.version_info >= (3, 9)
import ssl, venv, ensurepip
PY
}

# Candidates, best first: the user's choice, then the system's python3, then pyenv builds
# (called directly: pyenv shims fail unless that version is active).
find_python() {
  local candidate
  for candidate in "${IN_TOTO_PYTHON:-}" $(command -v python3 2>/dev/null || true) \
      $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[1-9]*/bin/python 2>/dev/null | sort -rV); do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && probe_python "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

mkdir -p "$DIR"
PY="$(find_python)" || { log "no Python >= 3.9 with venv found; set IN_TOTO_PYTHON"; exit 1; }
log "interpreter: $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"

if ! [ -x "$VENV/bin/python" ]; then
  log "creating venv $VENV"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi
log "pip install ${PACKAGES[*]}"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PACKAGES[@]}" >&2
check_venv || { log "the venv cannot import in_toto after the install"; exit 1; }
echo "$WANT" > "$STAMP"
echo "$VENV/bin/python"
