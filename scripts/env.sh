# Sourced by run.sh, test.sh, render.sh and verify.sh: set up, then point at the data.
scripts/setup_env.sh
if [ -z "${IMGCLS_DATA_DIR:-}" ] && [ -d ../shared/datasets ]; then
  export IMGCLS_DATA_DIR="$PWD/../shared/datasets"
fi
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
