#!/usr/bin/env bash
# The Python package's tests: a venv under build/ (kept between runs), `pip install .` (the
# extension's CMake build is kept in build/python, so a rerun only rebuilds what changed), then
# pytest. Needs the release build (build/release: the CLI and libintvit.so the tests compare with).
# Usage: tests/python/run_pytest.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${INTVIT_VENV:-build/venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check scikit-build-core nanobind pytest numpy pillow 'ray[data]'
# No build isolation: the same scikit-build-core/nanobind paths every run, so CMake's build in
# build/python stays valid and a rerun recompiles only what changed (isolated builds start over).
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
  "$venv/bin/pip" install -q --disable-pip-version-check --no-build-isolation .
# Run from tests/python so that `import intvit` is the installed package, not the source folder.
cd tests/python
exec "../../$venv/bin/python" -m pytest -q -rs "$@" .
