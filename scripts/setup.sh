#!/usr/bin/env bash
# Set up everything glif-pynn needs on a Debian machine, idempotently:
# Debian packages, a virtual environment at .venv with the Python packages, and the
# NEST module (built once, then cached). A second run only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="g++ make cmake libboost-dev libltdl-dev libgsl-dev python3-venv"

missing=""
for pkg in $APT_PACKAGES; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
# python3-venv is only needed when the Python in use cannot create a venv by itself.
if [ -n "$missing" ] && [ "$missing" = " python3-venv" ] && python3 -c "import venv, ensurepip" 2>/dev/null; then
  missing=""
fi
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating virtual environment .venv"
  python3 -m venv .venv
fi

stamp=".venv/.glif-pynn-installed"
want=$(cat setup.py requirements.txt requirements-test.txt requirements-docs.txt | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages into .venv (about a minute)"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e ".[test,docs]"
  echo "$want" > "$stamp"
fi

.venv/bin/glif-pynn build
