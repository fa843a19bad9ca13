#!/usr/bin/env bash
# Installs Claude Code (the npm package @anthropic-ai/claude-code, pinned) into a cached
# directory for omk's end-to-end tests (tests/it/real_agents.rs). Idempotent, npm registry only;
# the last line of stdout is the absolute path of the `claude` executable
# (scripts/lib/install-npm-cli.sh).
#
# Environment:
#   OMK_CLAUDE_CODE_DIR   where node_modules lives
#                         (default: ${XDG_CACHE_HOME:-$HOME/.cache}/omk/claude-code-<version>)
#   CLAUDE_CODE_VERSION   the version (default 2.1.332, the one omk's tests pin)
set -euo pipefail
. "$(dirname "$0")/lib/install-npm-cli.sh"

NAME=install-claude-code
PACKAGE="@anthropic-ai/claude-code"
VERSION="${CLAUDE_CODE_VERSION:-2.1.332}"
DIR="${OMK_CLAUDE_CODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/omk/claude-code-$VERSION}"
PROGRAM=claude
REPORTS="$VERSION *"
install_npm_cli
