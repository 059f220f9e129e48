#!/usr/bin/env bash
# Test command: set up what is missing, then run the whole test-suite.
#   ./test.sh              # unit tests + notebook tests (smoke and require-cache)
#   ./test.sh -k cache     # any pytest arguments
set -euo pipefail
cd "$(dirname "$0")"
source scripts/env.sh
export IMGCLS_OFFLINE=${IMGCLS_OFFLINE:-1}
exec .venv/bin/python -m pytest "$@"
