# Sourced by scripts/demo and scripts/test: finds Python >= 3.12, installs the locked dependencies into .venv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
  local candidate
  for candidate in "${IBOK_PYTHON:-}" python3.13 python3.12 python3 \
      /root/.pyenv/versions/3.13*/bin/python3 /root/.pyenv/versions/3.12*/bin/python3 \
      "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || [ -x "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"
      return 0
    fi
  done
  return 1
}

PYTHON="$(find_python)" || {
  echo "iBOK needs Python 3.12 or newer, and none was found." >&2
  echo "Install one (e.g. 'pyenv install 3.13') or point IBOK_PYTHON at its interpreter." >&2
  exit 1
}
echo "Using $PYTHON ($("$PYTHON" --version))"

# uv lives in its own small environment so that 'uv sync' may prune .venv freely.
if [ ! -x .tools/bin/uv ]; then
  "$PYTHON" -m venv .tools
  .tools/bin/pip install --quiet "uv==0.13.8"
fi
UV_PYTHON_DOWNLOADS=never .tools/bin/uv sync --frozen --quiet --python "$PYTHON"
export PATH="$PWD/.venv/bin:$PATH"
