#!/usr/bin/env bash
# Usage: run.sh INPUT.qdpx OUTDIR [--no-export]
# Creates a fresh QualCoder project in OUTDIR/qualcoder-project.qda, runs QualCoder's own
# REFI-QDA project import on INPUT.qdpx, exports OUTDIR/qualcoder-export.qdpx with QualCoder's
# REFI-QDA project export, and prints one JSON line on stdout (QualCoder's chatter -> OUTDIR/qualcoder-stderr.txt).
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: $0 INPUT.qdpx OUTDIR [--no-export]" >&2; exit 2; fi
H="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IN="$(realpath "$1")"; OUT="$2"; shift 2
[ -f "$IN" ] || { echo "no such file: $IN" >&2; exit 2; }
mkdir -p "$OUT"; OUT="$(realpath "$OUT")"
[ -x "$H/venv/bin/python" ] || { echo "venv missing: run $H/setup.sh" >&2; exit 3; }
# QualCoder keeps config.ini, its log and the export staging folder in ~/.qualcoder: isolate it per run
QC_HOME="$(mktemp -d "$H/home.XXXXXX")"; trap 'rm -rf "$QC_HOME"' EXIT
mkdir -p "$QC_HOME/.qualcoder"
HOME="$QC_HOME" QT_QPA_PLATFORM=offscreen QT_LOGGING_RULES='*.debug=false;qt.qpa.*=false' \
  "$H/venv/bin/python" "$H/harness.py" "$IN" "$OUT" "$@" 2>"$OUT/qualcoder-stderr.txt" || {
    rc=$?; echo "harness failed (exit $rc); last lines of $OUT/qualcoder-stderr.txt:" >&2
    tail -n 20 "$OUT/qualcoder-stderr.txt" >&2; exit $rc; }
