#!/usr/bin/env bash
# Grader's check of every cached artifact (files, safe loading, fingerprints, re-measured metrics).
#   ./verify.sh                 # everything
#   ./verify.sh 'ex4_clean_*'   # only matching names
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup_env.sh
if [ -z "${IMGCLS_DATA_DIR:-}" ] && [ -d ../shared/datasets ]; then
  export IMGCLS_DATA_DIR="$PWD/../shared/datasets"
fi
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
exec .venv/bin/python -m helpers.verify "$@"
