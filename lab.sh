#!/usr/bin/env bash
# Cell by cell: open the suite in JupyterLab (kernel "Python 3 (imgcls .venv)").
#   ./lab.sh                 # prints a http://localhost:8888/lab?token=... link to open
#   ./lab.sh --port 9000     # any other `jupyter lab` options
set -euo pipefail
cd "$(dirname "$0")"
source scripts/env.sh
args=(--ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks)
[ "$(id -u)" = 0 ] && args+=(--allow-root)  # containers and CI run as root
exec .venv/bin/jupyter lab "${args[@]}" "$@"
