#!/usr/bin/env bash
# Installs the peer engines that bench/peers/run_peers.py compares intvit with. On demand only:
# nothing in the engine, its build or its tests needs any of this.
#   Debian: python3-torch (PyTorch 1.13.1, Python 3.11) and libopenblas0-pthread (without it
#           Debian's torch runs its matrix products on the reference BLAS, which is far slower)
#   PyPI:   requirements.txt into bench/peers/.venv (sees Debian's torch via --system-site-packages)
# Usage: bash bench/peers/setup.sh        (as root, or with sudo available for apt-get)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
}
apt_install python3-torch python3-numpy python3-pil python3-venv libopenblas0-pthread

venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$here/requirements.txt"

"$venv/bin/python" -c 'import torch, numpy, onnx, onnxruntime
print("torch", torch.__version__, "| numpy", numpy.__version__, "| onnx", onnx.__version__,
      "| onnxruntime", onnxruntime.__version__)'
# NNCF 3.x fails to import next to torch 1.13; the OpenVINO worker hides torch (engines.block_torch_import).
"$venv/bin/python" -c 'import sys; sys.modules["torch"] = None
import openvino, nncf
print("openvino", openvino.get_version(), "| nncf", nncf.__version__)'
echo "peers ready: $venv/bin/python $here/run_peers.py --help"
