#!/usr/bin/env bash
# Grader's check of every cached artifact (files, safe loading, fingerprints, re-measured metrics).
#   ./verify.sh                 # everything
#   ./verify.sh 'ex4_clean_*'   # only matching names
set -euo pipefail
cd "$(dirname "$0")"
source scripts/env.sh
exec .venv/bin/python -m helpers.verify "$@"
