#!/usr/bin/env bash
# Build NEST 3.10 with MPI and OpenMP from its PyPI source distribution into its own
# virtual environment, kept apart from .venv so that no pip install there can replace it
# with the (MPI-less) wheel. The environment is built once per machine, outside the
# checkout (a NEST install cannot be moved: its prefix is compiled in), at
#   $GLIF_PYNN_MPI_VENV, default ${XDG_DATA_HOME:-~/.local/share}/glif-pynn/venv-mpi-nest-3.10.0,
# and every checkout links to it as .venv-mpi. Idempotent: does nothing but the link when
# that environment already imports a NEST with have_mpi. A cold build takes about 16 minutes
# on 2 cores; concurrent runs wait for each other (flock). glif-pynn itself is not installed
# there: callers put the checkout on PYTHONPATH (tests/test_mpi.py, comparisons/scale.py).
#
# The sources are patched before compiling: scripts/patches/*.patch must each apply cleanly,
# or the build stops. NEST 3.10.0's MPI exchange of connection targets can deliver spikes
# through wrong synapses (see comparisons/upstream/nest-target-exchange-bug.md); the patch
# fixes it and exports the symbol nest_target_data_end_marker_fix, which glif_pynn.nest.mpi
# looks for. An environment built before the patch existed lacks that symbol and is rebuilt
# (incrementally: only the patched files recompile).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NEST_VERSION=3.10.0
VENV=${GLIF_PYNN_MPI_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/glif-pynn/venv-mpi-nest-$NEST_VERSION}
LINK=$ROOT/.venv-mpi
LOG=$VENV/build-nest.log

PATCHES=$(ls "$ROOT"/scripts/patches/nest-$NEST_VERSION-*.patch 2>/dev/null || true)
PATCHES_ID=$(cat /dev/null $PATCHES | sha256sum | cut -c1-16)   # which patches the installed NEST must carry

have_mpi_nest() {   # an installed NEST with MPI, built with today's patches, whose kernel has the marker symbol
  [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.nest-patches" 2>/dev/null)" = "$PATCHES_ID" ] \
    && "$VENV/bin/python" - <<'PY' >/dev/null 2>&1
import ctypes, sys
import nest
if not nest.build_info["have_mpi"]:
    sys.exit(1)
maps = [line.split(maxsplit=5) for line in open("/proc/self/maps")]
kernels = {fields[5].strip() for fields in maps if len(fields) == 6 and "nestkernel" in fields[5] and ".so" in fields[5]}
sys.exit(0 if any(hasattr(ctypes.CDLL(path), "nest_target_data_end_marker_fix") for path in kernels) else 1)
PY
}

apply_patches() {   # on pristine sources (re-extracted when the set of patches changed); each must apply cleanly
  local stamp="$SRC.patches" patch_file
  if [ -d "$SRC" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$PATCHES_ID" ]; then
    return 0
  fi
  rm -rf "$SRC" "$stamp"
  tar -xzf "$SDIST" -C "$VENV/src" || fail "could not unpack $SDIST"
  for patch_file in $PATCHES; do
    patch -p1 -d "$SRC" --dry-run -s -f <"$patch_file" >>"$LOG" 2>&1 \
      || fail "$(basename "$patch_file") does not apply cleanly to NEST $NEST_VERSION's sources; see the log"
    patch -p1 -d "$SRC" -s -f <"$patch_file" >>"$LOG" 2>&1 || fail "applying $(basename "$patch_file") failed"
    echo "mpi-nest: applied $(basename "$patch_file")"
  done
  echo "$PATCHES_ID" > "$stamp"
}

fail() { echo "mpi-nest: $1" >&2; [ -f "$LOG" ] && echo "mpi-nest: full log: $LOG" >&2; exit 1; }

link_checkout() {
  if [ -d "$LINK" ] && [ ! -L "$LINK" ]; then   # an older layout built NEST inside the checkout
    echo "mpi-nest: moving the old in-checkout build .venv-mpi aside to .venv-mpi.old (delete it at will)"
    rm -rf "$LINK.old" && mv "$LINK" "$LINK.old"
  fi
  ln -sfn "$VENV" "$LINK"
}

mkdir -p "$(dirname "$VENV")" || fail "cannot create $(dirname "$VENV") (set GLIF_PYNN_MPI_VENV to a writable place)"
exec 9>"$VENV.lock"
if ! flock -n 9; then
  echo "mpi-nest: another process is building NEST with MPI in $VENV; waiting for it"
  flock 9
fi

step_python_packages() {
  # Everything glif-pynn needs, but never the nest-simulator wheel (it would shadow the MPI build).
  local stamp="$VENV/.glif-pynn-installed"
  local want
  want=$(cat requirements.txt requirements-test.txt | sha256sum | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "mpi-nest: installing glif-pynn's Python dependencies into $VENV (without the NEST wheel)"
    grep -v '^nest-simulator' requirements.txt > "$VENV/requirements-no-nest.txt"
    # bmtk (SONATA tests against BMTK) runs in .venv only: the MPI tier does not need it or its dependencies
    grep -v '^bmtk' requirements-test.txt > "$VENV/requirements-test-mpi.txt"
    "$VENV/bin/pip" install -q -r "$VENV/requirements-no-nest.txt" -r "$VENV/requirements-test-mpi.txt" mpi4py \
      >>"$VENV/pip.log" 2>&1 || fail "pip install of the Python dependencies failed (see $VENV/pip.log)"
    echo "$want" > "$stamp"
  fi
}

if have_mpi_nest; then
  step_python_packages
  link_checkout
  echo "mpi-nest: NEST $NEST_VERSION with MPI is ready in $VENV (linked as .venv-mpi)"
  exit 0
fi

missing=""
for pkg in libopenmpi-dev openmpi-bin g++ make cmake patch libgsl-dev libltdl-dev libboost-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "mpi-nest: installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq $missing >/dev/null || fail "apt-get install$missing failed"
fi

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || fail "cannot create $VENV (apt-get install python3-venv)"
mkdir -p "$VENV/src"
: > "$LOG"
echo "mpi-nest: building NEST $NEST_VERSION with MPI + OpenMP into $VENV (about 16 minutes, once per machine); log: $LOG"
"$VENV/bin/pip" install -q numpy cython >>"$LOG" 2>&1 || fail "pip install numpy cython failed"

SDIST=$(ls "$VENV"/src/nest_simulator-$NEST_VERSION.tar.gz 2>/dev/null || true)
if [ -z "$SDIST" ]; then
  echo "mpi-nest: [1/4] downloading the NEST $NEST_VERSION source distribution"
  "$VENV/bin/pip" download -q --no-deps --no-binary nest-simulator "nest-simulator==$NEST_VERSION" \
    -d "$VENV/src" >>"$LOG" 2>&1 || true
  SDIST=$(ls "$VENV"/src/nest_simulator-$NEST_VERSION.tar.gz 2>/dev/null) || fail "could not download the NEST sdist"
fi
SRC=$VENV/src/nest_simulator-$NEST_VERSION
apply_patches

echo "mpi-nest: [2/4] configuring (cmake -Dwith-mpi=ON -Dwith-openmp=ON)"
cmake -S "$SRC" -B "$VENV/build" -Dwith-mpi=ON -Dwith-openmp=ON -Dwith-python=ON \
  -DCMAKE_INSTALL_PREFIX="$VENV" -DPython_EXECUTABLE="$VENV/bin/python" >>"$LOG" 2>&1 \
  || fail "cmake configuration failed (see the log; MPI needs libopenmpi-dev)"

echo "mpi-nest: [3/4] compiling (progress in percent)"
jobs=$(nproc)
if ! make -C "$VENV/build" -j"$jobs" 2>&1 | tee -a "$LOG" | grep --line-buffered -o '^\[ *[0-9]*%\]' \
  | { last=0; while IFS= read -r line; do   # a shell loop: mawk would buffer its input
        p=${line//[^0-9]/}; p=$((10#${p:-0}))
        if [ "$p" -ge $((last + 10)) ] || { [ "$p" -eq 100 ] && [ "$last" -lt 100 ]; }; then
          echo "mpi-nest:   $p% compiled"; last=$p
        fi
      done; }; then
  fail "compilation failed"
fi

echo "mpi-nest: [4/4] installing into $VENV"
make -C "$VENV/build" install >>"$LOG" 2>&1 || fail "make install failed"
echo "$PATCHES_ID" > "$VENV/.nest-patches"
have_mpi_nest || fail "the installed NEST does not import with have_mpi = True and the patch's marker symbol"
step_python_packages
link_checkout
echo "mpi-nest: NEST $NEST_VERSION with MPI is ready in $VENV (linked as .venv-mpi)"
