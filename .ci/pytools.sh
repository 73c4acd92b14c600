#!/usr/bin/env bash
# Finds the Python tools make test needs: moto's server (a local AWS API) and cfn-lint (with the
# AWS SAM translator it brings). Prints the directory to put first on PATH, or nothing when the
# machine's python3 has them already (CI and the team's machines: then nothing is downloaded).
# Otherwise it installs the pinned versions, once, into .venv (ignored by git) and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION=5.2.1
CFN_LINT_VERSION=1.51.0
# Looked up, not imported (importing them takes seconds): moto[server] brings flask and werkzeug.
check='import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in ("moto", "flask", "werkzeug", "cfnlint", "samtranslator")))'
venv="$PWD/.venv"

if python3 -c "$check" 2>/dev/null && command -v cfn-lint >/dev/null 2>&1; then
  exit 0
fi
if [ -x "$venv/bin/python3" ] && [ -x "$venv/bin/cfn-lint" ] && "$venv/bin/python3" -c "$check" 2>/dev/null; then
  echo "$venv/bin"
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "make test: python3 is needed: moto's server and cfn-lint run on it" >&2
  exit 1
fi
echo "make test: python3 lacks moto[server] or cfn-lint; installing moto[server]==$MOTO_VERSION and cfn-lint==$CFN_LINT_VERSION into .venv (once)" >&2
if ! python3 -m venv "$venv" >&2; then
  echo "make test: python3 -m venv failed (on Debian and Ubuntu: apt-get install python3-venv)" >&2
  exit 1
fi
if ! "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION" >&2; then
  rm -rf "$venv" # a half-made environment must not look ready next time
  echo "make test: installing into .venv failed; install moto[server] and cfn-lint for python3 by hand" >&2
  exit 1
fi
echo "$venv/bin"
