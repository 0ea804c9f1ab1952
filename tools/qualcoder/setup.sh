#!/usr/bin/env bash
# One-off setup: QualCoder source into ./src and a venv into ./venv.
# Usage: setup.sh QUALCODER_GIT_DIR   (the .git folder of a clone of
#   https://github.com/ccbogel/QualCoder; checked at commit c3204641, "QualCoder 4.0 Beta")
set -euo pipefail
H="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
G="${1:?usage: setup.sh QUALCODER_GIT_DIR}"
if [ ! -f "$H/src/src/qualcoder/refi.py" ]; then
  mkdir -p "$H/src"
  git --git-dir="$G" archive HEAD | tar -x -C "$H/src"
  git --git-dir="$G" rev-parse HEAD > "$H/src/QUALCODER_COMMIT"
fi
if [ ! -x "$H/venv/bin/python" ]; then
  python3 -m venv "$H/venv"
  # Only what qualcoder.app / helpers / refi import at module level. pymupdf 2.x declares
  # onnxruntime, numpy, pymupdf-layout, ... as dependencies, but `import pymupdf` needs none of them.
  "$H/venv/bin/pip" install -q PyQt6 qtawesome Pillow
  "$H/venv/bin/pip" install -q --no-deps pymupdf
fi
"$H/venv/bin/pip" list --format=freeze > "$H/requirements-lock.txt"
echo "ok: $(cat "$H/src/QUALCODER_COMMIT" 2>/dev/null) ; $(du -sh "$H/venv" | cut -f1) venv"
