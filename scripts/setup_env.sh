#!/usr/bin/env bash
# Creates .venv and installs requirements.txt when missing or changed; registers
# the .venv's Jupyter kernel "imgcls" (the one every notebook names); installs
# Chromium, its driver and poppler-utils (for the PDF reports and the browser
# test) from Debian when missing and this runs as root; installs npm's
# configurable-http-proxy (JupyterHub's proxy) into .venv/chp when npm is there.
# Idempotent; set IMGCLS_SKIP_APT=1 to skip the system packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing requirements.txt (first time: a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi
chp=.venv/chp/node_modules/.bin/configurable-http-proxy  # JupyterHub's proxy, for a course server
if [ ! -x "$chp" ] && command -v npm >/dev/null; then
  echo "[setup] installing configurable-http-proxy (npm) into .venv/chp"
  npm install --silent --no-audit --no-fund --prefix .venv/chp configurable-http-proxy@5.3.0 >/dev/null 2>&1 \
    || echo "[setup] could not install configurable-http-proxy; the course-server test will be skipped"
fi
kernel=.venv/share/jupyter/kernels/imgcls/kernel.json
if ! { [ -f "$kernel" ] && [ -x "$(sed -n 's/^ *"\(.*python[0-9.]*\)",$/\1/p' "$kernel" | head -1)" ]; }; then
  echo "[setup] registering the Jupyter kernel 'imgcls' for .venv"
  .venv/bin/python -m ipykernel install --sys-prefix --name imgcls --display-name "Python 3 (imgcls .venv)" >/dev/null
fi
if [ -z "${IMGCLS_SKIP_APT:-}" ] && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v pdftoppm >/dev/null || ! command -v bwrap >/dev/null; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] installing chromium, chromium-driver and poppler-utils from Debian (PDF reports, browser test)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq chromium chromium-driver poppler-utils fonts-dejavu-core bubblewrap; } >/dev/null 2>&1 \
      || echo "[setup] could not install chromium; PDF rendering will be unavailable"
  else
    echo "[setup] note: install 'chromium', 'chromium-driver' and 'poppler-utils' to render PDFs (./render.sh)"
  fi
fi
