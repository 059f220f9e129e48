#!/usr/bin/env bash
# Hand-in reports: execute every notebook from the cache (never trains), render HTML
# and PDF of each, and one combined PDF, into reports/ (git-ignored).
#   ./render.sh                 # all notebooks -> reports/suite.pdf
#   ./render.sh 04_width        # only matching notebooks
set -euo pipefail
cd "$(dirname "$0")"
source scripts/env.sh
exec .venv/bin/python scripts/render.py "$@"
