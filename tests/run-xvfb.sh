#!/usr/bin/env bash
# Runs one test program in its own X server: Xvfb through xvfb-run (screen 1600x1000, 24 bit), with
# openbox as window manager when it is installed (real window-manager sizing, activation and focus),
# on Qt's xcb platform. CTest runs tst_tour and every GUI suite's <suite>_x11 twin through it.
#   bash tests/run-xvfb.sh PROGRAM [ARGS...]    exits with PROGRAM's status
# Policy: without xvfb-run this FAILS (exit 1), it does not skip: CI must really run these tests, and
# packaging/install-deps.sh installs xvfb, xauth and openbox. Without openbox the tests still run,
# with a notice (no window manager: no decorations, activation is Qt's own).
set -euo pipefail

if [[ ${1:-} != --inside ]]; then
  if ! command -v xvfb-run >/dev/null; then
    echo "run-xvfb: xvfb-run not found; run 'bash packaging/install-deps.sh' (installs xvfb, xauth" \
         "and openbox) to run the real-X GUI tests" >&2
    exit 1
  fi
  [[ $# -ge 1 ]] || { echo "run-xvfb: usage: $0 PROGRAM [ARGS...]" >&2; exit 2; }
  # xvfb-run -a picks the first display without a lock file, which races when CTest starts two of
  # these at once (ctest -j): hold a lock until this server is up (the inner part releases it).
  exec 9>"${TMPDIR:-/tmp}/nectar-xvfb-start.lock"
  flock 9
  exec xvfb-run -a -s "-screen 0 1600x1000x24" bash "$0" --inside "$@"
fi

shift
flock -u 9 2>/dev/null || true
exec 9>&-
wm=""
if command -v openbox >/dev/null; then
  ready=$(mktemp -u "${TMPDIR:-/tmp}/nectar-openbox-ready.XXXXXX")
  # --startup runs once openbox manages the screen; the test starts after that, not before.
  openbox --startup "touch $ready" >/dev/null 2>&1 &
  wm=$!
  for _ in $(seq 200); do [[ -e $ready ]] && break; sleep 0.05; done
  if [[ -e $ready ]]; then rm -f "$ready"; else echo "run-xvfb: openbox did not start within 10 s; going on" >&2; fi
else
  echo "run-xvfb: openbox not installed: running without a window manager" >&2
fi
export QT_QPA_PLATFORM=xcb
rc=0
"$@" || rc=$?
if [[ -n $wm ]]; then kill "$wm" 2>/dev/null || true; wait "$wm" 2>/dev/null || true; fi
exit "$rc"
