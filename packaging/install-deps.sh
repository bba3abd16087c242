#!/usr/bin/env bash
# Installs Nectar Toolbox's build and test dependencies from Debian packages, on Debian 12
# "bookworm" (LibTorch 1.13.1, Qt 6.4) or Debian 13 "trixie" (LibTorch 2.6, Qt 6.8); the release
# is read from /etc/os-release. Non-interactive and safe to re-run. Run as root (or with sudo).
#
# Options:
#   --debootstrap    install only debootstrap (for packaging/test-debian13.sh)
#   --bench-python   also install Debian's python3-torch, python3-torchvision and python3-numpy
#                    (for /usr/bin/python3), needed only to time NectarGAN's own Python training
#                    step on the same machine for comparison with nectar-bench (NectarGAN's
#                    losses module imports torchvision).
#   --fuzz           also install clang and its sanitizer/libFuzzer runtime, for the fuzz build
#                    (cmake --preset fuzz; README "Fuzzing").
set -euo pipefail

BENCH_PYTHON=0
FUZZ=0
ONLY_DEBOOTSTRAP=0
for arg in "$@"; do
  case "$arg" in
    --bench-python) BENCH_PYTHON=1 ;;
    --fuzz) FUZZ=1 ;;
    --debootstrap) ONLY_DEBOOTSTRAP=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown option: $arg" >&2; exit 2 ;;
  esac
done

# NECTAR_DEBIAN_RELEASE=12|13 overrides the detection (e.g. on a derivative that tracks one of them).
RELEASE=${NECTAR_DEBIAN_RELEASE:-}
if [ -z "$RELEASE" ] && [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  RELEASE=$(. /etc/os-release; case "${ID:-}:${VERSION_CODENAME:-}:${VERSION_ID:-}" in
    debian:bookworm:*|debian:*:12) echo 12 ;;
    debian:trixie:*|debian:*:13) echo 13 ;;
    *) echo "unsupported:${PRETTY_NAME:-${ID:-unknown}}" ;;
  esac)
fi
case "$RELEASE" in
  12|13) ;;
  *) echo "install-deps: ${RELEASE#unsupported:} is not Debian 12 or 13 (read from /etc/os-release);" \
       "set NECTAR_DEBIAN_RELEASE=12 or 13 to install that release's packages anyway" >&2
     exit 2 ;;
esac

if [ "$ONLY_DEBOOTSTRAP" -eq 1 ]; then
  PACKAGES=(debootstrap)
else
PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev            # LibTorch (CPU): 1.13.1 on Debian 12, 2.6 on Debian 13; find_package(Torch)
  libopenblas0-pthread    # optimised BLAS for libtorch (reference BLAS is ~6x slower)
  qt6-base-dev qt6-base-dev-tools libqt6opengl6-dev
  libqcustomplot-dev libqcustomplot2.1-qt6
  nlohmann-json3-dev
  libgloo-dev             # headers of c10d's Gloo backend (ProcessGroupGloo.hpp); the library is in libtorch
  libonnx-dev             # ONNX's C++ protobuf classes and checker: the generator export (1.12 / 1.17)
  qt6-qpa-plugins         # offscreen platform plugin for GUI tests
  libgl-dev
  xvfb xauth              # X server for the real-X GUI tests (tests/run-xvfb.sh: tst_tour, *_x11)
  openbox                 # window manager in that server: real WM sizing, activation and focus
)
if [ "$RELEASE" = 13 ]; then
  # minbase roots and containers lack these; Debian 12 images used here have them.
  PACKAGES+=(git ca-certificates)
  PACKAGES+=(libonnxruntime-dev)  # independent runtime for tst_onnx_export's numeric check (1.21)
else
  # Debian 12 packages no onnxruntime: tst_onnx_export's numeric check runs npm's onnxruntime-node
  # (a prebuilt Microsoft runtime) through node.
  command -v node >/dev/null && command -v npm >/dev/null || PACKAGES+=(nodejs npm)
fi
if [ "$BENCH_PYTHON" -eq 1 ]; then
  PACKAGES+=(python3-torch python3-torchvision python3-numpy)
fi
if [ "$FUZZ" -eq 1 ]; then
  PACKAGES+=(clang libclang-rt-dev)  # libFuzzer, ASan and UBSan runtimes (clang 14 / 19)
fi
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Make OpenBLAS the BLAS that libtorch loads (Debian's alternatives system).
if command -v update-alternatives >/dev/null; then
  for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
    target=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-pthread | head -n1 || true)
    if [ -n "$target" ]; then $SUDO update-alternatives --set "$alt" "$target" >/dev/null; fi
  done
fi
# onnxruntime-node for the ONNX check on Debian 12, into a fixed prefix (tests/onnx/ort_run.mjs). Its
# install script only fetches CUDA add-ons; the CPU runtime is in the package, so scripts are skipped.
# A registry that cannot be reached is not fatal: the test then skips only the numeric comparison.
ORT_NODE_VERSION=1.21.0
ORT_NODE_PREFIX=/usr/local/lib/nectar-toolbox/onnxruntime-node
if [ "$ONLY_DEBOOTSTRAP" -eq 0 ] && [ "$RELEASE" = 12 ] && \
   ! grep -qs "\"version\": \"$ORT_NODE_VERSION\"" "$ORT_NODE_PREFIX/node_modules/onnxruntime-node/package.json"; then
  $SUDO mkdir -p "$ORT_NODE_PREFIX"
  if ! $SUDO npm install --prefix "$ORT_NODE_PREFIX" --no-audit --no-fund --ignore-scripts \
        "onnxruntime-node@$ORT_NODE_VERSION" >/dev/null; then
    echo "install-deps: warning: npm could not install onnxruntime-node $ORT_NODE_VERSION into $ORT_NODE_PREFIX;" \
         "tst_onnx_export will skip its numeric comparison on this machine" >&2
  fi
fi
echo "install-deps: all dependencies present (Debian $RELEASE)"
