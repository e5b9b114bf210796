#!/usr/bin/env bash
# Lint api/openapi.yaml with Redocly CLI (recommended rules), pinned, installed
# from the npm registry into api/.tools (git-ignored) on first use.
set -euo pipefail
cd "$(dirname "$0")"
REDOCLY_VERSION=2.77.0 # later releases need Node 22
TOOLS=.tools
if [ ! -x "$TOOLS/node_modules/.bin/redocly" ] || ! grep -q "\"version\": \"$REDOCLY_VERSION\"" "$TOOLS/node_modules/@redocly/cli/package.json"; then
  mkdir -p "$TOOLS"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS" "@redocly/cli@$REDOCLY_VERSION" >&2
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
exec "$TOOLS/node_modules/.bin/redocly" lint --config redocly.yaml openapi.yaml
