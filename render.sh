#!/usr/bin/env bash
# Hand-in reports: execute every notebook from the cache (never trains), render HTML
# and PDF of each, and one combined PDF, into reports/ (git-ignored).
#   ./render.sh                 # all notebooks -> reports/suite.pdf
#   ./render.sh 04_width        # only matching notebooks
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup_env.sh
if [ -z "${IMGCLS_DATA_DIR:-}" ] && [ -d ../shared/datasets ]; then
  export IMGCLS_DATA_DIR="$PWD/../shared/datasets"
fi
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
exec .venv/bin/python scripts/render.py "$@"
