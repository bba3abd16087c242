#!/usr/bin/env bash
# Runs README's test command verbatim on Debian 13 "trixie" (LibTorch 2.6, Qt 6.8) inside a
# debootstrap root, from a clone of this checkout's HEAD. .ci/run calls it after the Debian 12 run.
#
# Usage: bash packaging/test-debian13.sh [--fresh] [--keep-build] [--worktree]
#   --fresh        rebuild the Debian 13 root from scratch instead of reusing the cached one
#   --keep-build   reuse the previous clone and build folder inside the root (faster re-runs)
#   --worktree     also copy uncommitted changes and untracked, non-ignored files (for development)
# Environment:
#   NECTAR_DEBIAN13_ROOT   where the root is cached (default ~/.cache/nectar-toolbox/debian13)
#   NECTAR_DEBIAN_MIRROR   Debian mirror for debootstrap (default http://deb.debian.org/debian)
#
# Needs root (debootstrap, chroot, mount). Prints the LibTorch and Qt versions it tested, the
# time of each phase and CTest's summary; exits with the test command's status.
set -euo pipefail

FRESH=0
KEEP_BUILD=0
WORKTREE=0
for arg in "$@"; do
  case "$arg" in
    --fresh) FRESH=1 ;;
    --keep-build) KEEP_BUILD=1 ;;
    --worktree) WORKTREE=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "test-debian13: unknown option: $arg (see --help)" >&2; exit 2 ;;
  esac
done

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${NECTAR_DEBIAN13_ROOT:-$HOME/.cache/nectar-toolbox/debian13}
MIRROR=${NECTAR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The one command README documents and .ci/run runs; taken from README so the three cannot drift.
TEST_CMD=$(grep -m1 -E '^bash packaging/install-deps.sh && cmake --preset release .*&& ctest --preset release$' "$REPO/README.md" || true)
if [ -z "$TEST_CMD" ]; then
  echo "test-debian13: README.md has no test command line ('bash packaging/install-deps.sh && cmake --preset release ... && ctest --preset release')" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test-debian13: must run as root (debootstrap, chroot and mount need it)" >&2
  exit 2
fi

phase_start=$SECONDS
phase() { # phase NAME: prints how long the previous phase took
  local now=$SECONDS
  [ -n "${PHASE:-}" ] && printf 'test-debian13: %-28s %4d s\n' "$PHASE" $((now - phase_start))
  PHASE=$1
  phase_start=$now
}

MOUNTS=()
cleanup() {
  local i p real
  # Processes left in the root (an interrupted build) would keep its mounts busy.
  real=$(readlink -f "$ROOT")
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$real" ] && kill -9 "${p#/proc/}" 2>/dev/null || true
  done
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

phase "root (debootstrap)"
if [ "$FRESH" -eq 1 ]; then rm -rf "$ROOT"; fi
if [ ! -f "$ROOT/.nectar-root-complete" ]; then
  bash "$REPO/packaging/install-deps.sh" --debootstrap
  rm -rf "$ROOT" "$ROOT.tmp"
  mkdir -p "$(dirname "$ROOT")"
  # The root is written to ROOT.tmp and renamed, so an interrupted debootstrap is never reused.
  debootstrap --variant=minbase --include=ca-certificates,git trixie "$ROOT.tmp" "$MIRROR" \
    > "$(dirname "$ROOT")/debootstrap.log" 2>&1 \
    || { tail -n 30 "$(dirname "$ROOT")/debootstrap.log" >&2; echo "test-debian13: debootstrap failed" >&2; exit 1; }
  cat > "$ROOT.tmp/etc/apt/sources.list" <<EOF
deb $MIRROR trixie main
deb $MIRROR trixie-updates main
EOF
  touch "$ROOT.tmp/.nectar-root-complete"
  mv "$ROOT.tmp" "$ROOT"
fi
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true

mount_in() { # mount_in TYPE SRC DEST [opts]
  local dest="$ROOT$3"
  mkdir -p "$dest"
  if [ "$1" = bind ]; then mount --bind "$2" "$dest"; else mount -t "$1" "$2" "$dest"; fi
  MOUNTS+=("$dest")
}
mount_in proc proc /proc
mount_in sysfs sys /sys
mount_in bind /dev /dev
mount_in devpts devpts /dev/pts
mount_in tmpfs tmpfs /dev/shm

phase "clone"
WORK=/work/nectar-toolbox
if [ "$KEEP_BUILD" -eq 1 ] && [ -d "$ROOT$WORK/.git" ]; then
  git -C "$ROOT$WORK" fetch -q "$REPO" HEAD
  git -C "$ROOT$WORK" checkout -q --force FETCH_HEAD
else
  rm -rf "$ROOT$WORK"
  mkdir -p "$ROOT/work"
  git clone -q --no-local "$REPO" "$ROOT$WORK"
  git -C "$ROOT$WORK" checkout -q --force "$(git -C "$REPO" rev-parse HEAD)"
fi
if [ "$WORKTREE" -eq 1 ]; then
  (cd "$REPO" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$ROOT$WORK"
  echo "test-debian13: with the working tree's uncommitted changes"
fi
echo "test-debian13: testing commit $(git -C "$ROOT$WORK" rev-parse --short HEAD) on $(. "$ROOT/etc/os-release"; echo "$PRETTY_NAME")"

in_root() { # in_root CMD: runs CMD in the root's clone with a clean environment
  chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "cd $WORK && $1"
}

phase "test command"
LOG="$ROOT/work/test-command.log"
set +e
in_root "$TEST_CMD" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e
phase "done"

torch_v=$(in_root "dpkg-query -W -f='\${Version}' libtorch-dev" 2>/dev/null || echo "not installed")
qt_v=$(in_root "dpkg-query -W -f='\${Version}' qt6-base-dev" 2>/dev/null || echo "not installed")
echo "test-debian13: Debian 13 root: libtorch-dev $torch_v, qt6-base-dev $qt_v"
summary=$(grep -E 'tests passed|tests failed' "$LOG" | tail -n 1 || true)
echo "test-debian13: CTest on Debian 13: ${summary:-no CTest summary (the test command failed before CTest)}"
exit "$status"
