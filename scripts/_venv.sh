# Sourced by scripts/start and scripts/test: make .venv and install the project into it.
# Re-installs only when pyproject.toml changed, so the second run starts at once.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
extras="${1:-}"
python_bin="${PYTHON:-python3}"
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: Python 3.11 or newer is needed ($python_bin is $("$python_bin" --version 2>&1));" \
       "set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating the virtual environment in .venv"
  "$python_bin" -m venv .venv
fi
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)${extras:+-$extras}"
if [ ! -f "$stamp" ]; then
  echo "==> installing the tracker${extras:+ with [$extras]} into .venv (first run takes a minute)"
  # This machine's pip config names local mirrors that may be absent: drop those warnings only.
  quiet_pip() { .venv/bin/python -m pip "$@" 2>&1 | sed '/is ignored: it is neither a file nor a directory/d'; }
  quiet_pip install --quiet --disable-pip-version-check --upgrade pip
  quiet_pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  touch "$stamp"
fi
