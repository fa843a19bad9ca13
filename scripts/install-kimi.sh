#!/usr/bin/env bash
# Installs the real Python Kimi CLI (kimi-cli, pinned) into a cached venv for omk's end-to-end tests.
#
# Idempotent: when the pinned version is already installed it only checks a stamp and exits,
# in well under a second. Uses only package registries (PyPI, and Debian's apt as a last resort).
# Progress goes to stderr; the last line of stdout is the absolute path of the `kimi` executable.
#
# Environment:
#   OMK_KIMI_DIR      where the venv (and a fallback CPython build) live
#                     (default: ${XDG_CACHE_HOME:-$HOME/.cache}/omk/kimi-cli-<version>)
#   KIMI_CLI_VERSION  the kimi-cli version (default 1.51.0; 1.52.0 on PyPI is a deprecation stub)
#   KIMI_PYTHON       an interpreter to use; it must pass the probe below
set -euo pipefail

VERSION="${KIMI_CLI_VERSION:-1.51.0}"
DIR="${OMK_KIMI_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/omk/kimi-cli-$VERSION}"
VENV="$DIR/venv"
STAMP="$DIR/installed"
log() { echo "[install-kimi] $*" >&2; }

# Fast path: the stamp is written last, so it exists only after a complete install.
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "kimi-cli==$VERSION" ] && [ -x "$VENV/bin/kimi" ] \
   && "$VENV/bin/python" -c 'import kimi_cli' 2>/dev/null; then
  echo "$VENV/bin/kimi"
  exit 0
fi

# A usable interpreter is >= 3.12, has the stdlib modules kimi and venv need, and is not
# CPython 3.12.0/3.12.1, whose frozen slots dataclasses with PEP 695 generics raise TypeError
# (kimi_cli/utils/slashcmd.py hits that on import). The probe reproduces the bug.
probe_python() {
  "$1" - <<'PY' >/dev/null 2>&1
import sys
from dataclasses import dataclass
assert sys.version_info >= (3, 12)
exec("@dataclass(frozen=True, slots=True)\nclass C[T]:\n    x: int\nC[int](x=1)\n")
import ssl, sqlite3, ctypes, lzma, bz2, zlib, venv, ensurepip
PY
}

# Candidates, best first: the user's choice, our own build, then 3.13 before 3.12 everywhere.
# pyenv shims fail unless that version is active, so pyenv builds are called directly.
find_python() {
  local candidate
  for candidate in "${KIMI_PYTHON:-}" "$DIR/python/bin/python3" \
      $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[3-9]*/bin/python 2>/dev/null | sort -rV) \
      $(command -v python3.14 python3.13 2>/dev/null || true) \
      $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python 2>/dev/null | sort -rV) \
      $(command -v python3.12 python3 2>/dev/null || true); do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && probe_python "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# Last resort: build CPython 3.13 from Debian trixie's source package, whose .orig.tar.xz is the
# pristine upstream tarball. apt runs with a private sources list and state, so the system's apt
# configuration is untouched. Takes about 10 minutes on 2 cores.
build_python() {
  local work mirror tarball
  work="$(mktemp -d)"
  log "no usable Python >= 3.12 found; building CPython 3.13 from Debian source into $DIR/python"
  mirror="$(grep -rhoE '^(URIs:|deb) +[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
            | grep -v security | awk '{print $2}' | grep -E '/debian/?$' | head -1 || true)"
  [ -n "$mirror" ] || { log "no Debian mirror in /etc/apt; set KIMI_PYTHON to a Python >= 3.12 (not 3.12.0/3.12.1)"; return 1; }
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" > "$work/sources.list"
  local apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
                  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" -qq update >&2
  (cd "$work" && apt-get "${apt_opts[@]}" -qq source --download-only python3.13 >&2)
  tarball="$(ls "$work"/python3.13_*.orig.tar.xz | head -1)"
  tar -C "$work" -xf "$tarball"
  (cd "$work"/Python-3.13.* && ./configure -q --prefix="$DIR/python" >&2 \
     && make -s -j"$(nproc)" >&2 && make -s install >&2)
  rm -rf "$work"
}

mkdir -p "$DIR"
PY="$(find_python || true)"
if [ -z "$PY" ]; then build_python; PY="$(find_python)"; fi
log "interpreter: $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"

if ! { [ -x "$VENV/bin/python" ] && probe_python "$VENV/bin/python"; }; then
  log "creating venv $VENV"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi
if [ "$("$VENV/bin/kimi" --version 2>/dev/null | head -1)" != "kimi, version $VERSION" ]; then
  log "pip install kimi-cli==$VERSION"
  "$VENV/bin/python" -m pip install -q "kimi-cli==$VERSION" >&2
fi

# kimi's Grep tool looks for rg in $KIMI_SHARE_DIR/bin, then kimi_cli/deps/bin, then PATH, and
# otherwise downloads it from a CDN. omk's scenarios do not grep, so ripgrep is best effort.
if command -v rg >/dev/null 2>&1; then
  deps="$("$VENV/bin/python" -c 'import kimi_cli, os; print(os.path.dirname(kimi_cli.__file__))')/deps/bin"
  mkdir -p "$deps" && ln -sf "$(command -v rg)" "$deps/rg"
else
  log "note: ripgrep is not installed; kimi's Grep tool would try to download it"
fi

# The real probe: 1.52.0 prints a deprecation notice instead of JSON.
info="$("$VENV/bin/kimi" info --json)"
log "kimi info --json: $info"
case "$info" in
  *'"kimi_cli_version": "'"$VERSION"'"'*) ;;
  *) log "kimi info --json did not report kimi_cli_version $VERSION"; exit 1 ;;
esac
echo "kimi-cli==$VERSION" > "$STAMP"
echo "$VENV/bin/kimi"
