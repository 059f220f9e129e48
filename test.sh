#!/usr/bin/env bash
# Test command: set up what is missing, then run the whole test-suite.
#   ./test.sh              # unit tests + notebook tests (smoke and require-cache)
#   ./test.sh -k cache     # any pytest arguments
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup_env.sh
if [ -z "${IMGCLS_DATA_DIR:-}" ] && [ -d ../shared/datasets ]; then
  export IMGCLS_DATA_DIR="$PWD/../shared/datasets"
fi
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3} IMGCLS_OFFLINE=${IMGCLS_OFFLINE:-1}
exec .venv/bin/python -m pytest "$@"
