#!/usr/bin/env bash
# The course around the notebooks (nbgrader).
#   ./course.sh release [NAME ...]   # instructor: student releases in release/ (folder + zip per notebook)
#   ./course.sh grade SUBMISSIONS    # instructor: grade a folder of zips (grades.csv, feedback, report in grading/)
#   ./course.sh similarity SUBMISSIONS  # instructor: copies between submissions (grading/similarity.html)
#   ./course.sh source NAME --course-dir DIR  # instructor: nbgrader's source/ and release/ on a course server
#   ./course.sh submit [NAME ...]    # student: check and pack the submission zip in submission/
set -euo pipefail
cd "$(dirname "$0")"
source scripts/env.sh
command=${1:-}
shift || true
case "$command" in
  submit) exec .venv/bin/python scripts/submit.py "$@" ;;
  release|grade|similarity|source)
    if [ ! -d course ]; then echo "course.sh: '$command' is for instructors; a student release only has 'submit'" >&2; exit 2; fi
    exec .venv/bin/python -m course.cli "$command" "$@" ;;
  *) echo "usage: ./course.sh release [NAME ...] | grade SUBMISSIONS | similarity SUBMISSIONS | source NAME --course-dir DIR | submit [NAME ...]" >&2; exit 2 ;;
esac
