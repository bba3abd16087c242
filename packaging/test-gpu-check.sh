#!/usr/bin/env bash
# Local proof of packaging/gpu-check.sh without a GPU: runs it with --cpu-only inside a Debian 12 minbase
# root that has no Qt and no nlohmann_json installed (they come only from build/gpu-debs, as on the GPU
# machine) and whose LibTorch is not apt-installed: Debian's libtorch1.13 + libtorch-dev are unpacked
# into /opt/libtorch-deb and found through LIBTORCH_PREFIX (only their runtime libraries are installed).
# The working tree is copied in as the device tool copies it (tracked and untracked-not-ignored files,
# plus build/gpu-debs and build/gpu-anchors). Then two negative checks: the default (cuda) mode must fail
# on this CPU-only LibTorch, and a core test with NECTAR_TEST_DEVICE=cuda must fail, naming the reason.
#
# Usage: bash packaging/test-gpu-check.sh [--fresh] [--unpack dpkg|ar|python] [--jobs N]
#   --fresh      rebuild the root (default: reuse it, and the build inside it, incrementally)
#   --unpack M   how gpu-check.sh unpacks the .debs (default: dpkg-deb; ar and python are its fallbacks
#                for machines without dpkg); forces a fresh unpack
#   --jobs N     build jobs inside the root (default 2)
# Environment: NECTAR_GPUCHECK_ROOT (default ~/.cache/nectar-toolbox/bookworm-gpucheck),
#              NECTAR_DEBIAN_MIRROR (default http://deb.debian.org/debian).
# Needs root (debootstrap, chroot, mount) and build/gpu-debs (bash packaging/gpu-check.sh --fetch-debs).
set -euo pipefail

FRESH=0
UNPACK=""
JOBS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --fresh) FRESH=1 ;;
    --unpack) UNPACK=${2:?--unpack needs dpkg, ar or python}; shift ;;
    --jobs) JOBS=${2:?--jobs needs a number}; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "test-gpu-check: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${NECTAR_GPUCHECK_ROOT:-$HOME/.cache/nectar-toolbox/bookworm-gpucheck}
MIRROR=${NECTAR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" -eq 0 ] || { echo "test-gpu-check: must run as root (debootstrap, chroot, mount)" >&2; exit 2; }
[ -f "$REPO/build/gpu-debs/MANIFEST" ] || { echo "test-gpu-check: run 'bash packaging/gpu-check.sh --fetch-debs' first" >&2; exit 2; }

phase_start=$SECONDS
phase() { # prints how long the previous phase took
  [ -n "${PHASE:-}" ] && printf 'test-gpu-check: %-34s %5d s\n' "$PHASE" $((SECONDS - phase_start))
  PHASE=$1
  phase_start=$SECONDS
}
MOUNTS=()
cleanup() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
in_root() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

phase "root (debootstrap)"
[ "$FRESH" -eq 1 ] && rm -rf "$ROOT"
if [ ! -f "$ROOT/.gpucheck-debootstrap-complete" ]; then
  command -v debootstrap >/dev/null || { echo "test-gpu-check: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 2; }
  rm -rf "$ROOT"
  mkdir -p "$(dirname "$ROOT")"
  debootstrap --variant=minbase --include=ca-certificates,git,build-essential,cmake,ninja-build,python3 \
    bookworm "$ROOT" "$MIRROR" >/tmp/test-gpu-check-debootstrap.log 2>&1 \
    || { tail -20 /tmp/test-gpu-check-debootstrap.log >&2; exit 1; }
  touch "$ROOT/.gpucheck-debootstrap-complete"
fi
for m in proc sys dev; do
  mount --bind "/$m" "$ROOT/$m"
  MOUNTS+=("$ROOT/$m")
done
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true

phase "LibTorch (unpacked, not installed)"
if [ ! -f "$ROOT/.gpucheck-root-complete" ]; then
  in_root apt-get update -qq
  # LibTorch's runtime and CMake dependencies, from apt; LibTorch itself, Qt 6 and nlohmann_json are not.
  deps=$(in_root apt-cache depends libtorch1.13 libtorch-dev | sed -n 's/^ *|\{0,1\}Depends: \([^<].*\)$/\1/p' |
         grep -vE '^(libtorch|python3-dev)|qt6|nlohmann' | sort -u | tr '\n' ' ')
  # shellcheck disable=SC2086
  in_root apt-get install -y -qq --no-install-recommends $deps libopenblas0-pthread >/tmp/test-gpu-check-apt.log 2>&1 \
    || { tail -20 /tmp/test-gpu-check-apt.log >&2; exit 1; }
  in_root sh -c 'rm -rf /opt/libtorch-deb /tmp/lt && mkdir -p /opt/libtorch-deb /tmp/lt && cd /tmp/lt &&
                 apt-get download libtorch1.13 libtorch-dev >/dev/null 2>&1 &&
                 for d in *.deb; do dpkg-deb -x "$d" /opt/libtorch-deb; done && rm -rf /tmp/lt'
  touch "$ROOT/.gpucheck-root-complete"
fi
leaks=$(in_root dpkg-query -W -f '${Package}\n' | grep -E 'qt6|nlohmann|^libtorch' || true)
if [ -n "$leaks" ]; then
  echo "test-gpu-check: the root has packages the proof must not rely on: $(echo "$leaks" | tr '\n' ' ')" >&2
  exit 1
fi
echo "test-gpu-check: root has no Qt 6, nlohmann_json or LibTorch package; LibTorch: /opt/libtorch-deb ($(ls "$ROOT"/opt/libtorch-deb/usr/lib/x86_64-linux-gnu/libtorch.so.* | head -1 | xargs basename))"

phase "copy the working tree"
DEST=$ROOT/work/main
mkdir -p "$DEST"
# Like the device tool: a fresh tree each time, but keep the check's own build folder (incremental builds).
find "$DEST" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
[ -d "$DEST/build" ] && find "$DEST/build" -mindepth 1 -maxdepth 1 ! -name gpu-check -exec rm -rf {} +
(cd "$REPO" && { git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done
                 for c in build/gpu-debs build/gpu-anchors; do [ -e "$c" ] && find "$c" -print0; done; } |
  tar --null --no-recursion -T - -cf -) | tar -xf - -C "$DEST"
[ -n "$UNPACK" ] && rm -rf "$DEST/build/gpu-check/sysroot"
echo "test-gpu-check: copied $(cd "$DEST" && find . -path ./build/gpu-check -prune -o -type f -print | wc -l) files ($(du -sh --exclude=gpu-check "$DEST" | cut -f1))"

phase "cuda mode on a CPU-only LibTorch"
rc=0
neg=0
out=$(in_root env LIBTORCH_PREFIX=/opt/libtorch-deb/usr NECTAR_GPU_CHECK_BUDGET=60 ${UNPACK:+NECTAR_UNPACK=$UNPACK} bash /work/main/packaging/gpu-check.sh --only tests 2>&1) && neg=1
if [ "$neg" -eq 0 ] && grep -q 'setup .*FAILED (LibTorch at .* is a CPU-only build)' <<<"$out"; then
  echo "test-gpu-check: cuda mode on a CPU-only LibTorch fails as it must: $(grep -m1 'setup' <<<"$out")"
else
  echo "test-gpu-check: cuda mode on a CPU-only LibTorch did not fail as expected:" >&2; echo "$out" >&2; rc=1
fi
phase "gpu-check.sh --cpu-only"
# NECTAR_GPU_CHECK_LIBS=debs: every library Qt needs from the .debs, none from this root (which has many
# of them through LibTorch's dependencies), as on a GPU machine that has none.
in_root env LIBTORCH_PREFIX=/opt/libtorch-deb/usr OUT=/work/out NECTAR_GPU_CHECK_LIBS=${NECTAR_GPU_CHECK_LIBS:-debs} ${UNPACK:+NECTAR_UNPACK=$UNPACK} \
  bash /work/main/packaging/gpu-check.sh --cpu-only --jobs "$JOBS" || rc=$?
echo "test-gpu-check: gpu-check.sh --cpu-only exited $rc; logs in $ROOT/work/out/"

phase "NECTAR_TEST_DEVICE=cuda without CUDA"
t_out=$(in_root env LD_LIBRARY_PATH=/work/main/build/gpu-check/runtime-lib:/opt/libtorch-deb/usr/lib/x86_64-linux-gnu \
        QT_PLUGIN_PATH=/work/main/build/gpu-check/sysroot/usr/lib/x86_64-linux-gnu/qt6/plugins NECTAR_TEST_DEVICE=cuda \
        /work/main/build/gpu-check/build-cpu/bin/tst_losses 2>&1) && neg=1
if [ "$neg" -eq 0 ] && grep -q 'FAIL!  : TestLosses::initTestCase() .*NECTAR_TEST_DEVICE=cuda is not usable here .*CUDA is not available' <<<"$t_out"; then
  echo "test-gpu-check: NECTAR_TEST_DEVICE=cuda without CUDA fails the suite: $(grep -m1 'FAIL!' <<<"$t_out" | cut -c1-160)"
  echo "test-gpu-check:   $(grep -E '^Totals' <<<"$t_out")"
else
  echo "test-gpu-check: NECTAR_TEST_DEVICE=cuda without CUDA did not fail as expected:" >&2; echo "$t_out" | tail -20 >&2; rc=1
fi
phase ""
exit "$rc"
