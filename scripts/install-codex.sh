#!/usr/bin/env bash
# Installs Codex (the npm package @openai/codex, pinned) into a cached directory for omk's
# end-to-end tests (tests/it/real_agents.rs). Idempotent, npm registry only; the last line of
# stdout is the absolute path of the `codex` executable (scripts/lib/install-npm-cli.sh).
#
# Environment:
#   OMK_CODEX_DIR         where node_modules lives
#                         (default: ${XDG_CACHE_HOME:-$HOME/.cache}/omk/codex-<version>)
#   CODEX_VERSION         the version (default 0.171.0, the one omk's tests pin)
set -euo pipefail
. "$(dirname "$0")/lib/install-npm-cli.sh"

NAME=install-codex
PACKAGE="@openai/codex"
VERSION="${CODEX_VERSION:-0.171.0}"
DIR="${OMK_CODEX_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/omk/codex-$VERSION}"
PROGRAM=codex
REPORTS="codex-cli $VERSION"
install_npm_cli
