#!/usr/bin/env bash
# Install everything the tests need and run them all: ruff, mypy, import contracts, pytest.
#
#   scripts/test.sh [pytest args...]
#
# - creates (or reuses) the virtualenv in $RCS_VENV (default: .venv beside this checkout)
#   and installs the package with its test extras;
# - installs Kamailio and SIPp with apt-get when running as root and they are missing
#   (the integration tests skip with the reason where they cannot be installed; under CI=true
#   they must run);
# - runs ruff, mypy (strict on the protocol core), import-linter and pytest.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
venv=${RCS_VENV:-$here/.venv}
py=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
"$venv/bin/python" -m pip install -q -e ".[test,pjsip]" 2>&1 | grep -v '^WARNING: Location' || true
"$venv/bin/python" -c 'import rcs_terminal, pytest, hypothesis' # fail early if the install failed

# Real SIP peers for the integration tests (Debian: kamailio, sip-tester provides sipp).
if ! command -v kamailio >/dev/null 2>&1 || ! command -v sipp >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing kamailio and sipp (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        kamailio kamailio-tls-modules sip-tester >/dev/null) \
      || echo "!! could not install kamailio/sipp; their tests will skip with the reason"
  else
    echo "!! kamailio/sipp missing and not root: their tests will skip with the reason"
  fi
fi

echo "== ruff"
"$venv/bin/ruff" check rcs_terminal tests scripts
echo "== mypy"
"$venv/bin/mypy" rcs_terminal
echo "== import contracts"
"$venv/bin/lint-imports"
echo "== pytest"
exec "$venv/bin/python" -m pytest "$@"
