#!/usr/bin/env bash
# Run the generation worker from .venv, with the settings in .env when there is one.
set -euo pipefail
cd "$(dirname "$0")"

if [[ ! -x .venv/bin/doctown ]]; then
  echo "No doctown in .venv: create it with python3 -m venv .venv && .venv/bin/pip install -e ." >&2
  exit 1
fi

if [[ -f .env ]]; then
  set -a
  source .env
  set +a
fi

exec .venv/bin/doctown serve "$@"
