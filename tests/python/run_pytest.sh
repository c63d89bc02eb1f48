#!/usr/bin/env bash
# The Python package's tests: a venv under build/ (kept between runs), `pip install .` (the
# extension's CMake build is kept in build/python, so a rerun only rebuilds what changed), then
# pytest. Needs the release build (build/release: the CLI and libintvit.so the tests compare with).
# Usage: tests/python/run_pytest.sh [pytest args...]
#
# INTVIT_PYTHON_BUILD_DIR=DIR: scikit-build-core's CMake build directory instead of build/python.
# CI points it at its release tree, built moments before with the same compiler and build type: the
# configure, build, install and wheel steps of `pip install .` all run, but the library's objects
# are already up to date, so only the extension is compiled (~20 s instead of ~170 s on 2 cores).
# It rewrites that tree's cache (SKBUILD, the Python paths, CMAKE_INSTALL_PREFIX): CI's own only.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${INTVIT_VENV:-build/venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check scikit-build-core nanobind pytest numpy pillow 'ray[data]'
settings=()
if [ -n "${INTVIT_PYTHON_BUILD_DIR:-}" ]; then
  cache="$INTVIT_PYTHON_BUILD_DIR/CMakeCache.txt"
  [ -f "$cache" ] || { echo "run_pytest.sh: $cache not found (INTVIT_PYTHON_BUILD_DIR must be a configured build)" >&2; exit 1; }
  # The tree's own generator (scikit-build-core would pick Ninja, which CMake refuses in a Makefiles
  # tree), and its tests kept in the build system (pyproject.toml turns them off for wheels).
  generator=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$cache")
  export CMAKE_GENERATOR="$generator"
  settings=(--config-settings="build-dir=$(realpath "$INTVIT_PYTHON_BUILD_DIR")"
            --config-settings=cmake.define.INTVIT_BUILD_TESTS=ON)
fi
# No build isolation: the same scikit-build-core/nanobind paths every run, so CMake's build in
# build/python stays valid and a rerun recompiles only what changed (isolated builds start over).
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
  "$venv/bin/pip" install -q --disable-pip-version-check --no-build-isolation "${settings[@]}" .
# Run from tests/python so that `import intvit` is the installed package, not the source folder.
cd tests/python
exec "../../$venv/bin/python" -m pytest -q -rs "$@" .
