#!/usr/bin/env bash
# GPU check: proves Nectar Toolbox's CUDA path in ONE call on a GPU machine that has a CUDA LibTorch
# (e.g. PyTorch's, found through python3) but no Qt, no nlohmann_json and no network. Qt 6 and
# nlohmann_json come from Debian 12 .debs fetched beforehand and carried with the working tree.
#
# Usage:
#   bash packaging/gpu-check.sh --fetch-debs   # on Debian 12 with its mirror: fill build/gpu-debs/
#                                              # (and build/gpu-anchors/ with NectarGAN's anchor, if found)
#   bash packaging/gpu-check.sh                # on the GPU machine, from the repo root
#   bash packaging/gpu-check.sh --cpu-only     # the same steps on the CPU (proves the pipeline anywhere)
# Options:
#   --only LIST   comma-separated steps to run: build,tests,train,bench,nectargan (default: all; the
#                 unpacking and discovery always run, later steps reuse an earlier build)
#   --jobs N      build jobs (default: all cores)
# Environment:
#   LIBTORCH_PREFIX          LibTorch's CMake prefix (/opt/libtorch, .../torch/share/cmake, ...);
#                            default: python3's torch.utils.cmake_prefix_path
#   NECTAR_PYTHON            the python3 with torch (default /opt/torch/.venv/bin/python3 if present)
#   CUDA_HOME                CUDA toolkit root (default: found from nvcc, /usr/local/cuda*, pip)
#   NECTAR_CUDA_ARCH         CMAKE_CUDA_ARCHITECTURES (default 90; TORCH_CUDA_ARCH_LIST follows)
#   NECTAR_GPU_CHECK_DEVICE  cuda (default) or cpu (= --cpu-only)
#   NECTAR_GPU_CHECK_BUDGET  seconds for the whole run (default 560 on cuda: one 10-minute call)
#   NECTAR_GPU_CHECK_LIBS    system (default: a library this machine has is not taken from the .debs) | debs
#   NECTARGAN_ANCHOR_DIR     folder with anchor_nectargan.py and nectargan/ (default build/gpu-anchors)
#   OUT                      when set, summary.txt and the logs are copied there (7 files)
# Prints one "gpu-check: <check> ... <result>" line per check; exits 0 when every required check
# passed, 1 when one failed, 2 on bad usage. Every step runs under `timeout`.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DEBS_DIR=$REPO/build/gpu-debs
ANCHORS_COPY=$REPO/build/gpu-anchors
WORK=$REPO/build/gpu-check
ARCH_TRIPLET=x86_64-linux-gnu

# Debian 12 packages for building and running against Qt 6 Core/Gui/Test and nlohmann_json: the -dev
# packages (CMake configs, headers, moc; qmake6 and its mkspecs, which Qt6CoreTools' and Qt6::Platform's
# imported targets name), the Qt libraries, the GL development files Qt6Gui's CMake
# config requires (WrapOpenGL), the JPEG image plugin's library (the sample data is JPEG) and every
# shared library those need. Not listed: libc6, libstdc++6, libgcc-s1 and libgomp1, which a machine with
# a C++ compiler has. --fetch-debs checks that this list is closed under DT_NEEDED.
DEBS=(
  qt6-base-dev qt6-base-dev-tools qmake6 qmake6-bin libqt6core6 libqt6gui6 libqt6dbus6 libqt6test6 nlohmann-json3-dev
  libgl-dev libglx-dev libopengl-dev libegl-dev libgl1 libglx0 libopengl0 libegl1 libglvnd0
  libicu72 libdouble-conversion3 libb2-1 libpcre2-16-0 libpcre2-8-0 libglib2.0-0 libzstd1 zlib1g
  libfontconfig1 libexpat1 libfreetype6 libbrotli1 libpng16-16 libharfbuzz0b libgraphite2-3 libmd4c0
  libxkbcommon0 libx11-6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 libdbus-1-3 libsystemd0 libcap2
  libgcrypt20 libgpg-error0 liblz4-1 liblzma5 libjpeg62-turbo
)
DEBS_LIMIT_MIB=40
# Sonames any machine with a C++ toolchain provides.
BASE_SONAMES="libc.so.6 libm.so.6 libdl.so.2 librt.so.1 libpthread.so.0 ld-linux-x86-64.so.2 libstdc++.so.6 libgcc_s.so.1 libgomp.so.1"

die() { echo "gpu-check: error: $*" >&2; exit 2; }

# ----------------------------------------------------------------------------------------------
# --fetch-debs (here, on Debian 12)
# ----------------------------------------------------------------------------------------------

# Unpacks one .deb into a folder: dpkg-deb where there is one, else ar + tar, else Python's stdlib
# (the GPU machine may be another distribution). NECTAR_UNPACK=dpkg|ar|python forces one (for tests).
unpack_deb() {
  local deb=$1 dest=$2 how=${NECTAR_UNPACK:-}
  if [ -z "$how" ]; then
    if command -v dpkg-deb >/dev/null; then how=dpkg
    elif command -v ar >/dev/null && command -v tar >/dev/null; then how=ar
    else how=python; fi
  fi
  case "$how" in
    dpkg) dpkg-deb -x "$deb" "$dest" ;;
    ar)
      local tmp member
      tmp=$(mktemp -d)
      (cd "$tmp" && ar x "$deb")
      member=$(ls "$tmp"/data.tar.* 2>/dev/null | head -1)
      [ -n "$member" ] || { rm -rf "$tmp"; echo "no data.tar.* in $deb" >&2; return 1; }
      # tar needs xz/zstd binaries for those members; Python's lzma does not.
      if ! tar -xf "$member" -C "$dest" 2>/dev/null; then unpack_deb_python "$deb" "$dest"; fi
      rm -rf "$tmp" ;;
    python) unpack_deb_python "$deb" "$dest" ;;
    *) die "NECTAR_UNPACK=$how: expected dpkg, ar or python" ;;
  esac
}

unpack_deb_python() {
  "${PYJSON:-python3}" - "$1" "$2" <<'EOF'
import io, sys, tarfile
deb, dest = sys.argv[1], sys.argv[2]
data = open(deb, 'rb').read()
if data[:8] != b'!<arch>\n':
    sys.exit(f'{deb}: not an ar archive')
pos = 8
while pos + 60 <= len(data):
    name = data[pos:pos + 16].decode().strip().rstrip('/')
    size = int(data[pos + 48:pos + 58].decode().strip())
    if name.startswith('data.tar'):
        kw = {'filter': 'tar'} if hasattr(tarfile, 'tar_filter') else {}  # keep Debian's symlinks
        with tarfile.open(fileobj=io.BytesIO(data[pos + 60:pos + 60 + size]), mode='r:*') as t:
            t.extractall(dest, **kw)
        sys.exit(0)
    pos += 60 + size + (size % 2)
sys.exit(f'{deb}: no data.tar member')
EOF
}

# Retargets absolute symlinks inside an unpacked root to the same path inside the root.
relocate_symlinks() {
  local root=$1 l t
  while IFS= read -r -d '' l; do
    t=$(readlink "$l")
    case "$t" in /*) ln -sfn "$root$t" "$l" ;; esac
  done < <(find "$root" -type l -print0)
}

# Prints "soname" for each DT_NEEDED entry of an ELF file.
needed_of() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# What this project loads from the .debs: the Qt libraries it links, the image plugins QImageReader
# uses (the sample data is JPEG) and moc. Paths relative to an unpacked root.
closure_roots() {
  local root=$1 f
  for f in "$root/usr/lib/$ARCH_TRIPLET"/libQt6{Core,Gui,DBus,Test}.so.6 \
           "$root/usr/lib/$ARCH_TRIPLET/qt6/plugins/imageformats"/*.so "$root/usr/lib/qt6/libexec/moc"; do
    [ -e "$f" ] && echo "$f"
  done
}

# check_closure "DIR..." "SONAME..." FILE...: follows DT_NEEDED from the FILEs through the libraries in
# the DIRs; a soname found in neither the DIRs, BASE_SONAMES nor the given sonames is printed as missing.
# Returns 1 if any is.
check_closure() {
  local dirs=$1 provided missing=0 f n d path
  provided=$(tr ' ' '\n' <<<"$BASE_SONAMES $2" | sort -u)
  shift 2
  local -A seen=()
  local -a queue=("$@")
  while [ ${#queue[@]} -gt 0 ]; do
    f=${queue[0]}
    queue=("${queue[@]:1}")
    [ -n "${seen[$f]:-}" ] && continue
    seen[$f]=1
    for n in $(needed_of "$f"); do
      path=""
      for d in $dirs; do [ -e "$d/$n" ] && { path=$(readlink -f "$d/$n"); break; }; done
      if [ -n "$path" ]; then queue+=("$path")
      elif ! grep -qxF "$n" <<<"$provided"; then echo "  ${f##*/} needs $n"; missing=1; fi
    done
  done
  return $missing
}

fetch_debs() {
  [ -r /etc/os-release ] || die "--fetch-debs: no /etc/os-release"
  # shellcheck disable=SC1091
  local codename; codename=$(. /etc/os-release; echo "${VERSION_CODENAME:-}")
  [ "$codename" = bookworm ] || die "--fetch-debs needs Debian 12 (bookworm) and its apt sources; this is '$codename'"
  command -v apt-get >/dev/null || die "--fetch-debs: apt-get not found"
  mkdir -p "$REPO/build"
  FETCH_TMP=$(mktemp -d "$REPO/build/.gpu-debs.XXXXXX")
  trap 'rm -rf "$FETCH_TMP"' EXIT
  local tmp=$FETCH_TMP
  chmod 755 "$tmp" # apt's _apt user downloads into it
  echo "gpu-check: downloading ${#DEBS[@]} Debian 12 packages"
  # (apt's "unsandboxed download" warning for a root-owned folder is noise: shown only on failure.)
  if ! (cd "$tmp" && apt-get download "${DEBS[@]}" >/dev/null 2>"$tmp/apt.err"); then
    grep -v '^W: Download is performed unsandboxed' "$tmp/apt.err" >&2 || true
    echo "gpu-check: apt-get download failed; refreshing the package lists once (apt-get update)"
    apt-get update >/dev/null
    (cd "$tmp" && apt-get download "${DEBS[@]}" >/dev/null)
  fi
  # Closure check on a scratch unpack: nothing a Qt library or tool loads may be missing.
  mkdir -p "$tmp/root"
  local deb
  for deb in "$tmp"/*.deb; do unpack_deb "$deb" "$tmp/root"; done
  local -a roots
  mapfile -t roots < <(closure_roots "$tmp/root")
  [ ${#roots[@]} -ge 6 ] || die "the unpacked .debs lack Qt's libraries or moc"
  if ! check_closure "$tmp/root/usr/lib/$ARCH_TRIPLET $tmp/root/lib/$ARCH_TRIPLET" "" "${roots[@]}" >"$tmp/missing"; then
    cat "$tmp/missing" >&2
    die "the package list in $0 is not closed: add the packages providing the sonames above"
  fi
  local size_kib; size_kib=$(du -sk --apparent-size "$tmp"/*.deb | awk '{s += $1} END {print s}')
  [ "$size_kib" -le $((DEBS_LIMIT_MIB * 1024)) ] || die "the .debs take $((size_kib / 1024)) MiB, over the ${DEBS_LIMIT_MIB} MiB budget"
  rm -rf "$tmp/root" "$DEBS_DIR"
  mkdir -p "$DEBS_DIR"
  mv "$tmp"/*.deb "$DEBS_DIR"/
  for deb in "$DEBS_DIR"/*.deb; do dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb"; done | sort >"$DEBS_DIR/MANIFEST"
  echo "gpu-check: $(wc -l <"$DEBS_DIR/MANIFEST") .debs in ${DEBS_DIR#"$REPO"/}/, $((size_kib / 1024)).$((size_kib % 1024 * 10 / 1024)) MiB (closure checked)"

  # NectarGAN's own training step, for the speed ratio (Apache-2.0; only what the anchor imports).
  local src=${NECTARGAN_ANCHOR_DIR:-$REPO/../shared/anchors}
  if [ -f "$src/anchor_nectargan.py" ] && [ -d "$src/nectargan" ]; then
    rm -rf "$ANCHORS_COPY"
    mkdir -p "$ANCHORS_COPY"
    cp "$src/anchor_nectargan.py" "$ANCHORS_COPY/"
    [ -f "$src/README.md" ] && cp "$src/README.md" "$ANCHORS_COPY/"
    (cd "$src" && tar -cf - --exclude='__pycache__' --exclude='nectargan/toolbox/resources' nectargan) | tar -xf - -C "$ANCHORS_COPY"
    echo "gpu-check: NectarGAN anchor copied to ${ANCHORS_COPY#"$REPO"/}/ ($(du -sh "$ANCHORS_COPY" | cut -f1)," \
         "licence: $(head -1 "$ANCHORS_COPY/nectargan/LICENSE" 2>/dev/null || echo '?'), Apache-2.0)"
  else
    echo "gpu-check: no NectarGAN anchor at $src (set NECTARGAN_ANCHOR_DIR); the nectargan check will be skipped"
  fi
  echo "gpu-check: carry on the device: [\"build/gpu-debs\"$([ -d "$ANCHORS_COPY" ] && echo ', "build/gpu-anchors"')]"
}

# ----------------------------------------------------------------------------------------------
# The check
# ----------------------------------------------------------------------------------------------

DEVICE=${NECTAR_GPU_CHECK_DEVICE:-cuda}
ONLY=""
JOBS=""
MODE=check
while [ $# -gt 0 ]; do
  case "$1" in
    --fetch-debs) MODE=fetch ;;
    --cpu-only) DEVICE=cpu ;;
    --only) [ $# -ge 2 ] || die "--only needs a list"; ONLY=$2; shift ;;
    --only=*) ONLY=${1#--only=} ;;
    --jobs) [ $# -ge 2 ] || die "--jobs needs a number"; JOBS=$2; shift ;;
    --jobs=*) JOBS=${1#--jobs=} ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done
if [ "$MODE" = fetch ]; then fetch_debs; exit 0; fi
case "$DEVICE" in cuda|cpu) ;; *) die "NECTAR_GPU_CHECK_DEVICE=$DEVICE: expected cuda or cpu" ;; esac
for s in ${ONLY//,/ }; do
  case "$s" in build|tests|train|bench|nectargan) ;; *) die "--only: unknown step '$s' (build,tests,train,bench,nectargan)" ;; esac
done
wants() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
JOBS=${JOBS:-$(nproc)}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "--jobs $JOBS: expected a positive number"

LOGS=$WORK/logs
SYSROOT=$WORK/sysroot
RUNTIME_LIB=$WORK/runtime-lib # symlinks: the unpacked libraries this machine lacks
BUILD=$WORK/build-$DEVICE
RUNS=$WORK/runs-$DEVICE
mkdir -p "$LOGS"
SUMMARY=$LOGS/summary.txt
: >"$SUMMARY"
for f in setup build tests train bench; do : >"$LOGS/$f.log"; done
: >"$LOGS/bench.jsonl"

START=$SECONDS
if [ "$DEVICE" = cuda ]; then BUDGET=${NECTAR_GPU_CHECK_BUDGET:-560}; else BUDGET=${NECTAR_GPU_CHECK_BUDGET:-7200}; fi
FAILED=0
# Seconds a step may take: what it asks for (sized for the 16-core GPU machine; x10 on the CPU, where
# a 2-core machine builds and trains), capped by what is left of the budget (minus a reserve for the
# summary), at least 5.
STEP_SCALE=1
[ "$DEVICE" = cpu ] && STEP_SCALE=10
step_time() {
  local want=$(($1 * STEP_SCALE)) left=$((BUDGET - (SECONDS - START) - 10))
  [ "$left" -lt "$want" ] && want=$left
  [ "$want" -lt 5 ] && want=5
  echo "$want"
}
time_left() { echo $((BUDGET - (SECONDS - START))); }

# report CHECK RESULT [required|optional]: one summary line; a required check whose result does not
# start with "ok" (or a number) fails the run.
report() {
  local line
  local pad=$((40 - ${#1}))
  [ "$pad" -lt 3 ] && pad=3
  line=$(printf 'gpu-check: %s %s %s' "$1" "$(printf '%*s' "$pad" '' | tr ' ' '.')" "$2")
  echo "$line" | tee -a "$SUMMARY"
  if [ "${3:-required}" = required ] && ! [[ $2 =~ ^(ok|[0-9]) ]]; then FAILED=$((FAILED + 1)); fi
}

finish() {
  local rc=$?
  [ "$rc" -ne 0 ] && [ "$FAILED" -eq 0 ] && report "script" "FAILED (exit $rc before all checks ran; see the logs)"
  {
    echo "gpu-check: $([ "$FAILED" -eq 0 ] && echo PASSED || echo "FAILED ($FAILED required check(s))")" \
         "in $((SECONDS - START)) s, device $DEVICE"
  } | tee -a "$SUMMARY"
  if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
    local f
    # At most 7 files, each cut to its last 15 MiB (the device tool returns 8 files of 16 MiB at most).
    for f in summary.txt setup.log build.log tests.log train.log bench.log bench.jsonl; do
      [ -f "$LOGS/$f" ] && tail -c 15000000 "$LOGS/$f" >"$OUT/$f"
    done
  fi
  [ "$FAILED" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
  exit 1
}
trap finish EXIT

log() { echo "$*" >>"$LOGS/setup.log"; }

# The python3 with torch (the GPU machine's), else any python3 (JSON parsing only).
if [ -n "${NECTAR_PYTHON:-}" ]; then PY=$NECTAR_PYTHON
elif [ -x /opt/torch/.venv/bin/python3 ]; then PY=/opt/torch/.venv/bin/python3
else PY=$(command -v python3 || true); fi
[ -n "$PY" ] || { report "setup" "FAILED (no python3: set NECTAR_PYTHON)"; exit 1; }
PYJSON=$PY

# Commands that load the unpacked Qt libraries get them (and torch's libraries) this way, only them.
with_runtime() {
  env LD_LIBRARY_PATH="$RUNTIME_LIB${TORCH_LIB:+:$TORCH_LIB}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      QT_PLUGIN_PATH="$SYSROOT/usr/lib/$ARCH_TRIPLET/qt6/plugins" QT_QPA_PLATFORM=offscreen "$@"
}

# --- setup: unpack the .debs, find LibTorch (and CUDA) ------------------------------------------
setup() {
  local t0=$SECONDS
  [ -f "$DEBS_DIR/MANIFEST" ] || { SETUP_ERR="no ${DEBS_DIR#"$REPO"/}/MANIFEST: run 'bash packaging/gpu-check.sh --fetch-debs' on Debian 12 and carry build/gpu-debs"; return 1; }
  local missing=0 pkg ver
  while read -r pkg ver; do
    compgen -G "$DEBS_DIR/${pkg}_*.deb" >/dev/null || { log "missing $pkg ($ver) in $DEBS_DIR"; missing=$((missing + 1)); }
  done <"$DEBS_DIR/MANIFEST"
  [ "$missing" -eq 0 ] || { SETUP_ERR="$missing .debs of the MANIFEST are missing in ${DEBS_DIR#"$REPO"/} (listed in setup.log)"; return 1; }
  # Unpack once per manifest.
  local stamp; stamp=$(cksum <"$DEBS_DIR/MANIFEST")
  if [ "$(cat "$SYSROOT/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$SYSROOT"
    mkdir -p "$SYSROOT"
    local deb
    for deb in "$DEBS_DIR"/*.deb; do unpack_deb "$deb" "$SYSROOT"; done
    relocate_symlinks "$SYSROOT"
    echo "$stamp" >"$SYSROOT/.stamp"
  fi
  QT_VERSION=$(sed -n 's/^libqt6core6 //p' "$DEBS_DIR/MANIFEST" | cut -d+ -f1)

  # Runtime libraries: the machine's own copy of a library wins (same soname, usually a newer build, and
  # what its CUDA libraries already use); only what it lacks comes from the .debs. Qt itself always does.
  # NECTAR_GPU_CHECK_LIBS=debs takes every library from the .debs instead (for a machine whose own copies
  # are older than Debian 12's).
  local have ours=0 system=0 d f n
  have=$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true) | awk 'NR > 1 {print $1}' | sort -u)
  [ "${NECTAR_GPU_CHECK_LIBS:-system}" = debs ] && have=""
  rm -rf "$RUNTIME_LIB"
  mkdir -p "$RUNTIME_LIB"
  for d in "$SYSROOT/usr/lib/$ARCH_TRIPLET" "$SYSROOT/lib/$ARCH_TRIPLET"; do
    for f in "$d"/lib*.so.*; do
      [ -e "$f" ] || continue
      n=${f##*/}
      [[ $n =~ ^lib.+\.so\.[0-9]+$ ]] || continue # soname-style names only
      if [[ $n != libQt6* ]] && grep -qxF "$n" <<<"$have"; then system=$((system + 1)); continue; fi
      ln -sfn "$f" "$RUNTIME_LIB/$n"
      ours=$((ours + 1))
    done
  done
  log "runtime libraries: $ours from the .debs (in $RUNTIME_LIB), $system the machine has itself"
  # Everything Qt, moc and the image plugins load must resolve here: from the .debs or from the machine.
  if command -v readelf >/dev/null; then
    local -a roots
    mapfile -t roots < <(closure_roots "$SYSROOT")
    if ! check_closure "$RUNTIME_LIB" "$have" "${roots[@]}" >>"$LOGS/setup.log"; then
      SETUP_ERR="libraries that neither the .debs nor this machine provide (listed in setup.log)"
      return 1
    fi
    log "closure: every DT_NEEDED of Qt, moc, the image plugins and their libraries resolves"
  else
    log "no readelf: library closure not checked"
  fi

  # LibTorch: LIBTORCH_PREFIX, else python3's torch.
  local prefix=${LIBTORCH_PREFIX:-}
  if [ -z "$prefix" ]; then
    prefix=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>>"$LOGS/setup.log") \
      || { SETUP_ERR="no LIBTORCH_PREFIX, and $PY cannot import torch (set NECTAR_PYTHON or LIBTORCH_PREFIX)"; return 1; }
    log "LibTorch from $PY: torch $("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null)"
  fi
  TORCH_PREFIX=$prefix
  local cfg; cfg=$(find "$prefix" -maxdepth 6 -name TorchConfig.cmake 2>/dev/null | head -1)
  [ -n "$cfg" ] || { SETUP_ERR="no TorchConfig.cmake under $prefix"; return 1; }
  TORCH_DIR=$(dirname "$cfg")
  TORCH_CMAKE=$(dirname "$TORCH_DIR")
  TORCH_VERSION=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")/\1/p' "$TORCH_DIR/TorchConfigVersion.cmake" 2>/dev/null | head -1)
  TORCH_INCLUDE=""
  for d in "$TORCH_DIR/../../../include" "$TORCH_DIR/../../../../include"; do
    [ -f "$d/torch/csrc/api/include/torch/torch.h" ] && { TORCH_INCLUDE=$(cd "$d" && pwd); break; }
  done
  TORCH_LIB=""
  for d in "$TORCH_DIR/../../../lib" "$TORCH_DIR/../.."; do
    compgen -G "$d/libtorch.so*" >/dev/null && { TORCH_LIB=$(cd "$d" && pwd); break; }
  done
  [ -n "$TORCH_LIB" ] || { SETUP_ERR="no libtorch.so next to $TORCH_DIR"; return 1; }
  LINK_DIRS="$RUNTIME_LIB:$TORCH_LIB"
  local torch_cuda=no
  grep -qs 'add_library(torch_cuda ' "$TORCH_CMAKE/Caffe2/Caffe2Targets.cmake" && torch_cuda=yes
  log "LibTorch ${TORCH_VERSION:-?} at $TORCH_DIR (CUDA build: $torch_cuda, headers ${TORCH_INCLUDE:-not found})"
  if [ "$DEVICE" = cuda ] && [ "$torch_cuda" = no ]; then SETUP_ERR="LibTorch at $TORCH_DIR is a CPU-only build"; return 1; fi
  CXX_STD=17
  if [ -n "$TORCH_INCLUDE" ] && grep -rqs 'C++20 or later compatible compiler is required' "$TORCH_INCLUDE/c10/macros" "$TORCH_INCLUDE/torch/csrc/api/include/torch/all.h"; then
    CXX_STD=20
    log "these LibTorch headers require C++20: building with CMAKE_CXX_STANDARD=20"
  fi

  CUDA_DESC=""
  CUDA_ARGS=()
  if [ "$DEVICE" = cuda ]; then find_cuda || return 1; fi
  SETUP_DESC="LibTorch ${TORCH_VERSION:-?}$([ "$torch_cuda" = yes ] && echo ' (CUDA)'), Qt $QT_VERSION from $(wc -l <"$DEBS_DIR/MANIFEST") .debs${CUDA_DESC:+, $CUDA_DESC}"
  log "setup took $((SECONDS - t0)) s"
}

# CUDA toolkit for LibTorch's CMake config (it runs FindCUDA and enable_language(CUDA), so it needs nvcc
# and the toolkit's unversioned libraries), plus the usual pitfalls of pip-installed CUDA LibTorch:
# nvToolsExt gone from CUDA 12.9+/13 (older configs still name CUDA::nvToolsExt), NVTX3 headers looked up
# in PyTorch's source tree, cuDNN living in the nvidia-cudnn wheel.
find_cuda() {
  local root="" c nvcc
  for c in "${CUDA_HOME:-}" "${CUDA_PATH:-}"; do
    if [ -n "$c" ] && [ -x "$c/bin/nvcc" ]; then root=$c; break; fi
  done
  if [ -z "$root" ] && nvcc=$(command -v nvcc); then root=$(dirname "$(dirname "$(readlink -f "$nvcc")")"); fi
  if [ -z "$root" ]; then
    for c in /usr/local/cuda /usr/local/cuda-*; do [ -x "$c/bin/nvcc" ] && { root=$c; break; }; done
  fi
  if [ -z "$root" ]; then # nvidia-cuda-nvcc wheel next to torch
    root=$("$PY" -c 'import glob, os, site
for p in site.getsitepackages():
    for n in sorted(glob.glob(os.path.join(p, "nvidia", "**", "bin", "nvcc"), recursive=True)):
        print(os.path.dirname(os.path.dirname(n))); raise SystemExit' 2>/dev/null || true)
  fi
  [ -n "$root" ] || { SETUP_ERR="no CUDA toolkit: no nvcc in CUDA_HOME, PATH, /usr/local/cuda* or $PY's site-packages"; return 1; }
  local version; version=$("$root/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\),.*/\1/p')
  log "CUDA toolkit: $root (nvcc $version)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >>"$LOGS/setup.log" 2>&1 || log "nvidia-smi failed"

  # FindCUDA wants lib64/libcudart.so (unversioned); wheels ship only libcudart.so.N: give it a shim root.
  local libdir=""
  for c in "$root/lib64" "$root/lib" "$root/targets/x86_64-linux/lib"; do [ -e "$c/libcudart.so" ] && { libdir=$c; break; }; done
  if [ -z "$libdir" ]; then
    local shim=$WORK/cuda-root f n
    rm -rf "$shim"
    mkdir -p "$shim/lib64"
    for c in bin include nvvm; do [ -e "$root/$c" ] && ln -s "$root/$c" "$shim/$c"; done
    for f in "$root"/lib*/lib*.so.* "$root"/../*/lib/lib*.so.*; do
      [ -e "$f" ] || continue
      n=${f##*/}
      ln -sfn "$f" "$shim/lib64/$n"
      [ -e "$shim/lib64/${n%%.so.*}.so" ] || ln -s "$f" "$shim/lib64/${n%%.so.*}.so"
    done
    log "no unversioned libcudart.so under $root: using the shim toolkit root $shim"
    root=$shim
  fi
  CUDA_ROOT=$root
  local arch=${NECTAR_CUDA_ARCH:-90}
  [[ $arch =~ ^[0-9]{2,3}$ ]] || { SETUP_ERR="NECTAR_CUDA_ARCH=$arch: expected a compute capability such as 90"; return 1; }
  TORCH_ARCH="${arch:0:${#arch}-1}.${arch: -1}" # 90 -> 9.0: LibTorch's TORCH_CUDA_ARCH_LIST (skips GPU detection)
  CUDA_ARGS=(-DCMAKE_CUDA_COMPILER="$root/bin/nvcc" -DCUDA_TOOLKIT_ROOT_DIR="$root" -DCUDAToolkit_ROOT="$root"
             -DCMAKE_CUDA_ARCHITECTURES="$arch" -DTORCH_CUDA_ARCH_LIST="$TORCH_ARCH" -DPYTHON_EXECUTABLE="$PY")
  # NVTX3 (header-only): LibTorch 2.5+ looks for it with find_path(nvtx3_dir ...) in its own source tree.
  for c in "$root/include" $("$PY" -c 'import nvidia.nvtx as m, os; print(os.path.join(list(m.__path__)[0], "include"))' 2>/dev/null || true); do
    if [ -d "$c/nvtx3" ]; then CUDA_ARGS+=(-Dnvtx3_dir="$c"); log "NVTX3 headers: $c"; break; fi
  done
  # Older configs require the target CUDA::nvToolsExt, which FindCUDAToolkit no longer makes on CUDA 13.
  if grep -qs 'CUDA::nvToolsExt' "$TORCH_CMAKE/Caffe2/public/cuda.cmake" && ! compgen -G "$root/lib*/libnvToolsExt.so*" >/dev/null; then
    mkdir -p "$WORK/cmake"
    cat >"$WORK/cmake/nvtoolsext-shim.cmake" <<'EOF'
# Written by packaging/gpu-check.sh: LibTorch's CMake config links CUDA::nvToolsExt, a library CUDA 12.9+
# no longer ships; NVTX3 is header-only, so an interface target with the toolkit's headers stands in.
find_package(CUDAToolkit QUIET)
if(CUDAToolkit_FOUND AND NOT TARGET CUDA::nvToolsExt)
  add_library(CUDA::nvToolsExt INTERFACE IMPORTED)
  target_include_directories(CUDA::nvToolsExt INTERFACE ${CUDAToolkit_INCLUDE_DIRS})
  message(STATUS "gpu-check: CUDA::nvToolsExt stands in for the removed libnvToolsExt (header-only NVTX3)")
endif()
EOF
    CUDA_ARGS+=(-DCMAKE_PROJECT_INCLUDE="$WORK/cmake/nvtoolsext-shim.cmake")
    log "LibTorch's cuda.cmake names CUDA::nvToolsExt and the toolkit has no libnvToolsExt: shim target added"
  fi
  # cuDNN from the nvidia-cudnn wheel torch loads at run time (its lib has no unversioned libcudnn.so).
  local cudnn
  cudnn=$("$PY" -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null || true)
  if [ -n "$cudnn" ] && [ -f "$cudnn/include/cudnn_version.h" ]; then
    local lib; lib=$(ls "$cudnn"/lib/libcudnn.so* 2>/dev/null | head -1)
    [ -n "$lib" ] && CUDA_ARGS+=(-DCUDNN_INCLUDE_PATH="$cudnn/include" -DCUDNN_LIBRARY_PATH="$lib") && log "cuDNN: $lib"
  fi
  # The CUDA libraries libtorch_cuda.so needs (wheels: site-packages/nvidia/*/lib), for the linker.
  local nv
  nv=$("$PY" -c 'import glob, os, site
print(":".join(sorted({d for p in site.getsitepackages() for d in glob.glob(os.path.join(p, "nvidia", "**", "lib"), recursive=True)})))' 2>/dev/null || true)
  [ -n "$nv" ] && LINK_DIRS="$LINK_DIRS:$nv" && log "CUDA wheel libraries: $nv"
  CUDA_DESC="CUDA $version"
}

# --- build: configure and build the engine, the CLI, the benchmark and the core tests ------------
build() {
  local t0=$SECONDS stamp="$TORCH_DIR|$DEVICE|$CXX_STD"
  if [ "$(cat "$BUILD/.gpu-check-stamp" 2>/dev/null)" != "$stamp" ]; then rm -rf "$BUILD"; fi
  mkdir -p "$BUILD"
  local prefix_path="$TORCH_PREFIX;$SYSROOT/usr;$SYSROOT/usr/lib/$ARCH_TRIPLET/cmake"
  local -a env_cuda=()
  if [ "$DEVICE" = cuda ]; then
    env_cuda=(CUDA_HOME="$CUDA_ROOT" CUDACXX="$CUDA_ROOT/bin/nvcc" PATH="$CUDA_ROOT/bin:$PATH" TORCH_CUDA_ARCH_LIST="$TORCH_ARCH")
  fi
  # (CMAKE_POLICY_VERSION_MINIMUM: CMake 4 refuses the old policy levels some bundled Find modules set.)
  echo "== configure ($(date -u +%FT%TZ))" >>"$LOGS/build.log"
  if ! with_runtime env "${env_cuda[@]}" timeout -k 10 "$(step_time 240)" \
      cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DNECTAR_BUILD_GUI=OFF -DNECTAR_BUILD_TESTS=ON -DNECTAR_BUILD_BENCH=ON -DCMAKE_CXX_STANDARD="$CXX_STD" \
        -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
        -DCMAKE_PREFIX_PATH="$prefix_path" -DTorch_DIR="$TORCH_DIR" \
        -DQt6_DIR="$SYSROOT/usr/lib/$ARCH_TRIPLET/cmake/Qt6" -Dnlohmann_json_DIR="$SYSROOT/usr/share/cmake/nlohmann_json" \
        -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$LINK_DIRS" \
        "${CUDA_ARGS[@]}" >>"$LOGS/build.log" 2>&1; then
    report "build" "FAILED (cmake configure; $(grep -m1 -A2 'CMake Error' "$LOGS/build.log" | tr '\n' ' ' | cut -c1-200))"
    return 1
  fi
  echo "$stamp" >"$BUILD/.gpu-check-stamp"
  # Every library file the link lines name must exist (e.g. a path some LibTorch configs hard-code).
  local missing
  missing=$(sed -n 's/^ *LINK_LIBRARIES = //p' "$BUILD/build.ninja" | tr ' ' '\n' | grep -E '^/.*\.(so(\.[0-9.]+)?|a)$' | sort -u |
            while read -r f; do [ -e "$f" ] || echo "$f"; done)
  if [ -n "$missing" ]; then
    echo "link inputs that do not exist: $missing" >>"$LOGS/build.log"
    report "build" "FAILED (link inputs missing: $(echo "$missing" | tr '\n' ' ' | cut -c1-200))"
    return 1
  fi
  echo "== build -j$JOBS ($(date -u +%FT%TZ))" >>"$LOGS/build.log"
  local limit rc=0
  limit=$(step_time 420)
  # Only what the checks run: the CLI, the benchmark and the core test suites (not the fixture writer etc.).
  local -a targets=(nectar-train nectar-test nectar-bench)
  local t
  for t in "$REPO"/tests/core/tst_*.cpp; do t=${t##*/}; targets+=("${t%.cpp}"); done
  with_runtime timeout -k 10 "$limit" cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]}" >>"$LOGS/build.log" 2>&1 || rc=$?
  if [ "$rc" -eq 124 ]; then report "build" "FAILED (timed out after $limit s; a rerun continues it)"; return 1
  elif [ "$rc" -ne 0 ]; then report "build" "FAILED ($(grep -m1 -E 'error:|FAILED:' "$LOGS/build.log" | cut -c1-200))"; return 1
  fi
  report "build" "ok ($((SECONDS - t0)) s, -j$JOBS)"
}

# --- tests: the core suites, with NECTAR_TEST_DEVICE -----------------------------------------------
tests() {
  local t0=$SECONDS rc=0
  with_runtime env NECTAR_TEST_DEVICE="$DEVICE" timeout -k 10 "$(step_time 300)" \
    ctest --test-dir "$BUILD" -j "$(( JOBS > 8 ? 8 : JOBS ))" -V >"$LOGS/tests.log" 2>&1 || rc=$?
  local line passed="" total="" failed_n on_device
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$LOGS/tests.log" | tail -1 || true)
  if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    failed_n=${BASH_REMATCH[1]}
    total=${BASH_REMATCH[2]}
    passed=$((total - failed_n))
  fi
  on_device=$(grep -c "test device: $( [ "$DEVICE" = cuda ] && echo cuda || echo cpu)" "$LOGS/tests.log" || true)
  if [ "$rc" -eq 0 ] && [ -n "$total" ] && [ "$passed" = "$total" ] && [ "$on_device" -ge 3 ]; then
    report "core tests on $DEVICE" "ok $passed/$total ($((SECONDS - t0)) s; $on_device suites ran on $DEVICE)"
  else
    local failed; failed=$(grep -E '^\s*[0-9]+ - tst_' "$LOGS/tests.log" | awk '{print $3}' | paste -sd' ' || true)
    report "core tests on $DEVICE" "FAILED ${passed:-0}/${total:-?}$([ "$rc" -eq 124 ] && echo ', timed out')${failed:+: $failed}$([ "$on_device" -lt 3 ] && echo "; only $on_device suites reported device $DEVICE")"
  fi
}

# Checks an experiment folder; prints "ok, <details>" or "FAILED (<why>)".
check_experiment() { # DIR DEVICE_PREFIX EPOCHS_CSV MIN_VALUES [AMP]
  "$PYJSON" - "$@" <<'EOF'
import json, math, os, re, sys, zipfile
exp, dev, epochs, min_values = sys.argv[1], sys.argv[2], sys.argv[3].split(','), int(sys.argv[4])
amp = len(sys.argv) > 5 and sys.argv[5] == 'amp'
def fail(msg):
    print(f'FAILED ({msg})'); sys.exit(1)
for e in epochs:
    for part in ('netG', 'netD', 'trainer'):
        f = os.path.join(exp, f'epoch{e}_{part}.pt')
        if not os.path.isfile(f) or os.path.getsize(f) == 0:
            fail(f'no checkpoint {os.path.basename(f)}')
try:
    log = json.load(open(os.path.join(exp, 'loss_log.json')))['LOSSMANAGER_LOG']
except Exception as e:
    fail(f'loss_log.json: {e}')
if not str(log.get('device', '')).startswith(dev):
    fail(f"loss log says device {log.get('device')!r}, expected {dev}")
last, count = {}, None
for name, d in log['loss_functions'].items():
    vals = d['loss']
    if not vals:
        continue
    bad = [v for v in vals if not isinstance(v, (int, float)) or not math.isfinite(v)]
    if bad:
        fail(f'{name} has non-finite values ({bad[0]!r})')
    last[name] = vals[-1]
    count = len(vals) if count is None else min(count, len(vals))
if not last or count < min_values:
    fail(f'{count} values per loss, expected >= {min_values}')
detail = ', '.join(f'{k}={v:.3g}' for k, v in sorted(last.items())) + f', finite, {count} values per loss'
if amp:
    # Both dynamic loss scalers must have run: their state is in the trainer checkpoint's "extra" JSON.
    with zipfile.ZipFile(os.path.join(exp, f'epoch{epochs[-1]}_trainer.pt')) as z:
        blob = b''.join(z.read(n) for n in z.namelist() if n.endswith('.pkl'))
    found = {}
    for net in ('g', 'd'):
        m = re.search(rb'"scaler_%s":\{"growth_tracker":(\d+),"scale":([0-9.e+]+)\}' % net.encode(), blob)
        if not m:
            fail(f'no scaler_{net} state in the trainer checkpoint')
        found[net] = (int(m.group(1)), float(m.group(2)))
    if any(t == 0 and s == 1.0 for t, s in found.values()):
        fail(f'loss scalers never ran (state {found})')
    detail += ', scalers G {1:g}/{0} D {3:g}/{2} (scale/clean steps)'.format(*found['g'], *found['d'])
print('ok, ' + detail)
EOF
}

# --- train: the sample on the device with float16 autocast, then continued on the CPU ------------
values_per_loss() { # fewest values any loss has in an experiment's loss_log.json (0 if unreadable)
  "$PYJSON" -c 'import json, sys
d = json.load(open(sys.argv[1]))["LOSSMANAGER_LOG"]["loss_functions"]
print(min(len(v["loss"]) for v in d.values() if v["loss"]))' "$1/loss_log.json" 2>/dev/null || echo 0
}

train() {
  local t0=$SECONDS cfg=$WORK/sample-config-$DEVICE.json exp=$RUNS/gpu-check_v1 res rc=0 label amp="" ipe
  rm -rf "$RUNS"
  mkdir -p "$RUNS"
  # Small models, so it is quick; 2 epochs (1 constant + 1 decay), a checkpoint every epoch.
  "$PYJSON" - "$cfg" "$RUNS" "$REPO/resources/sample-data/photo-colorize" <<'EOF'
import json, sys
cfg, runs, data = sys.argv[1:4]
lr = {"epochs": 1, "epochs_decay": 1}
json.dump({"config": {
    "common": {"output_directory": runs, "experiment_name": "gpu-check", "seed": 3, "num_threads": 0},
    "dataloader": {"dataroot": data, "batch_size": 4, "num_workers": 2, "load": {"load_size": 143, "crop_size": 128}},
    "train": {"generator": {"features": 16, "n_downs": 4, "learning_rate": lr},
              "discriminator": {"base_channels": 16, "learning_rate": lr}},
    "save": {"model_save_rate": 1, "example_save_rate": 1}}}, open(cfg, "w"), indent=1)
EOF
  if [ "$DEVICE" = cuda ]; then label="train cuda fp16 2 epochs"; amp=amp; else label="train cpu 2 epochs"; fi
  echo "== nectar-train --device $DEVICE (2 epochs)" >>"$LOGS/train.log"
  with_runtime timeout -k 10 "$(step_time 150)" "$BUILD/bin/nectar-train" --config "$cfg" --device "$DEVICE" --quiet \
    >>"$LOGS/train.log" 2>&1 || rc=$?
  ipe=$(sed -n 's/.*, \([0-9]*\) iterations per epoch.*/\1/p' "$LOGS/train.log" | head -1)
  if [ "$rc" -ne 0 ]; then
    report "$label" "FAILED (exit $rc$([ "$rc" -eq 124 ] && echo ', timed out'); see train.log)"
  elif ! grep -q "^device: $DEVICE" "$LOGS/train.log"; then
    report "$label" "FAILED (nectar-train did not train on $DEVICE: $(grep -m1 '^device:' "$LOGS/train.log" || echo 'no device line'))"
  else
    res=$(check_experiment "$exp" "$DEVICE" 1,2 $((2 * ${ipe:-1})) $amp || true)
    report "$label" "$res ($((SECONDS - t0)) s)"
  fi

  # Continue that run on the CPU from its epoch-2 checkpoint, one more epoch (--epochs 2: a 2 + 1 plan).
  t0=$SECONDS rc=0
  echo "== nectar-train --experiment ... --continue 2 --epochs 2 --device cpu" >>"$LOGS/train.log"
  if [ -f "$exp/epoch2_netG.pt" ]; then
    local before after
    before=$(values_per_loss "$exp")
    with_runtime timeout -k 10 "$(step_time 150)" "$BUILD/bin/nectar-train" --experiment "$exp" --continue 2 --epochs 2 \
      --device cpu --quiet >>"$LOGS/train.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
      report "continue on cpu" "FAILED (exit $rc$([ "$rc" -eq 124 ] && echo ', timed out'); see train.log)"
    elif ! res=$(check_experiment "$exp" cpu 3 $((before + ${ipe:-1}))); then
      report "continue on cpu" "$res"
    else
      after=$(values_per_loss "$exp")
      report "continue on cpu" "ok, epoch 3 on cpu from the $DEVICE checkpoint, $before -> $after values per loss, finite ($((SECONDS - t0)) s)"
    fi
  else
    report "continue on cpu" "FAILED (no epoch-2 checkpoint to continue from)"
  fi

  # Inference on the device: nectar-test on the test split with the epoch-2 generator.
  t0=$SECONDS rc=0
  echo "== nectar-test --epoch 2 --device $DEVICE" >>"$LOGS/train.log"
  with_runtime timeout -k 10 "$(step_time 90)" "$BUILD/bin/nectar-test" --experiment "$exp" --epoch 2 --device "$DEVICE" \
    >>"$LOGS/train.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    report "nectar-test $DEVICE epoch 2" "FAILED (exit $rc$([ "$rc" -eq 124 ] && echo ', timed out'); see train.log)"
  else
    res=$("$PYJSON" - "$exp/test_epoch2/metrics.json" <<'EOF' || true
import json, math, sys
try:
    m = json.load(open(sys.argv[1]))
    mean = {k: v for k, v in m['mean'].items() if v is not None}
    assert m['count'] > 0 and mean and all(math.isfinite(v) for v in mean.values()), m['mean']
except Exception as e:
    print(f'FAILED (metrics.json: {e!r})'); sys.exit(1)
print(f"ok, {m['count']} images, " + ', '.join(f'{k} {v:.4g}' for k, v in sorted(mean.items())))
EOF
)
    report "nectar-test $DEVICE epoch 2" "$res ($((SECONDS - t0)) s)"
  fi
}

# --- bench: nectar-bench's suite on the device (+ GPU memory) --------------------------------------
BENCH_CONFIGS=()
bench() {
  local t0=$SECONDS rc=0 smi_pid="" smi_log=$WORK/nvidia-smi.csv
  local -a args
  if [ "$DEVICE" = cuda ]; then
    args=(--device cuda --steps 20 --warmup 5) # the default suite: 256/64/6/1, 128/32/5/1, 128/32/5/4 ext, 64/16/4/8
    if command -v nvidia-smi >/dev/null; then
      nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 >"$smi_log" 2>/dev/null &
      smi_pid=$!
    fi
  else
    args=(--device cpu --crop 64 --features 16 --n-downs 4 --batch 1 --steps 3 --warmup 1 --threads "$JOBS")
  fi
  echo "== nectar-bench ${args[*]}" >>"$LOGS/bench.log"
  with_runtime timeout -k 10 "$(step_time 180)" "$BUILD/bin/nectar-bench" "${args[@]}" >"$WORK/bench.out" 2>>"$LOGS/bench.log" || rc=$?
  [ -n "$smi_pid" ] && kill "$smi_pid" 2>/dev/null && wait "$smi_pid" 2>/dev/null || true
  cat "$WORK/bench.out" >>"$LOGS/bench.log"
  grep '^{' "$WORK/bench.out" | sed 's/^{/{"tool": "nectar-bench", /' >>"$LOGS/bench.jsonl" || true
  local lines
  lines=$("$PYJSON" - "$WORK/bench.out" "$DEVICE" <<'EOF' || true
import json, math, sys
dev = sys.argv[2]
for line in open(sys.argv[1]):
    if not line.startswith('{'):
        continue
    j = json.loads(line)
    cfg = f"{j['crop']}/{j['features']}/{j['n_downs']}/{j['batch']} {j['subspec']}"
    ok = str(j.get('device', '')).startswith(dev) and math.isfinite(j['it_per_s']) and j['it_per_s'] > 0
    mem = j.get('peak_cuda_mib')
    res = f"{j['it_per_s']:.1f} it/s, {j['median_s_per_iter'] * 1000:.1f} ms/iter" + (f", peak {mem:.0f} MiB" if mem is not None else '')
    if not ok:
        res = f"FAILED (device {j.get('device')!r}, it/s {j['it_per_s']})"
    print(f"{cfg}\t{res}\t{j['crop']} {j['features']} {j['n_downs']} {j['batch']} {j['subspec']} {j['it_per_s']}\t{mem if mem is not None else ''}")
EOF
)
  if [ "$rc" -ne 0 ] || [ -z "$lines" ]; then
    report "bench $DEVICE" "FAILED (exit $rc$([ "$rc" -eq 124 ] && echo ', timed out'); see bench.log)"
    return
  fi
  local cfg res spec mem peak=""
  while IFS=$'\t' read -r cfg res spec mem; do
    report "bench $DEVICE $cfg" "$res"
    BENCH_CONFIGS+=("$spec")
    [ -n "$mem" ] && peak=$(awk -v a="${peak:-0}" -v b="$mem" 'BEGIN {print (b > a) ? b : a}')
  done <<<"$lines"
  if [ "$DEVICE" = cuda ]; then
    local smi=""
    [ -s "$smi_log" ] && smi=$(sort -n "$smi_log" | tail -1)
    report "peak GPU memory" "$([ -n "$peak" ] && printf '%.0f MiB (nectar-bench, caching allocator, largest config)' "$peak" || echo 'n/a in nectar-bench')$([ -n "$smi" ] && echo ", nvidia-smi max used $smi MiB")" optional
  fi
  log "bench took $((SECONDS - t0)) s"
}

# --- nectargan: NectarGAN's own training step at the same configs, for the ratio (optional) -------
nectargan() {
  local dir=${NECTARGAN_ANCHOR_DIR:-$ANCHORS_COPY}
  if [ ! -f "$dir/anchor_nectargan.py" ]; then report "nectargan" "skipped (no anchor_nectargan.py in $dir)" optional; return; fi
  if ! "$PY" -c 'import torch, torchvision' 2>/dev/null; then report "nectargan" "skipped ($PY has no torch/torchvision)" optional; return; fi
  if [ "$DEVICE" = cuda ] && ! "$PY" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())' 2>/dev/null; then
    report "nectargan" "skipped (torch in $PY sees no CUDA device)" optional; return
  fi
  [ ${#BENCH_CONFIGS[@]} -gt 0 ] || { report "nectargan" "skipped (no nectar-bench figures to compare with)" optional; return; }
  local spec crop features n_downs batch subspec ours out res
  for spec in "${BENCH_CONFIGS[@]}"; do
    read -r crop features n_downs batch subspec ours <<<"$spec"
    local label="nectargan $DEVICE $crop/$features/$n_downs/$batch $subspec"
    if [ "$(time_left)" -lt 45 ]; then report "$label" "skipped (out of time)" optional; continue; fi
    echo "== anchor_nectargan.py $spec" >>"$LOGS/bench.log"
    out=$(timeout -k 5 "$(step_time 90)" "$PY" "$dir/anchor_nectargan.py" --nectargan "$dir" --crop "$crop" --features "$features" \
          --n-downs "$n_downs" --batch "$batch" --subspec "$subspec" --device "$DEVICE" --wait-quiet 0 \
          $([ "$DEVICE" = cuda ] && echo '--steps 20 --warmup 5' || echo "--steps 3 --warmup 1 --threads $JOBS") 2>>"$LOGS/bench.log" | grep '^{' | tail -1 || true)
    if [ -z "$out" ]; then report "$label" "FAILED (no result; see bench.log)" optional; continue; fi
    echo "$out" | sed 's/^{/{"tool": "anchor_nectargan", /' >>"$LOGS/bench.jsonl"
    res=$("$PYJSON" -c 'import json, sys
j = json.loads(sys.argv[1]); ours = float(sys.argv[2]); theirs = 1.0 / j["median_s_per_iter"]
mem = j.get("peak_cuda_mib")
print(f"{theirs:.1f} it/s, ratio {ours / theirs:.2f}x" + (f", peak {mem:.0f} MiB" if mem is not None else ""))' "$out" "$ours" 2>/dev/null || echo "FAILED (unreadable result)")
    report "$label" "$res" optional
  done
}

# --- run ---------------------------------------------------------------------------------------------
echo "gpu-check: device $DEVICE, budget $BUDGET s, -j$JOBS, logs in ${LOGS#"$REPO"/}/"
SETUP_ERR="see setup.log"
if ! setup >>"$LOGS/setup.log" 2>&1; then report "setup" "FAILED ($SETUP_ERR)"; exit 1; fi
report "setup" "ok ($SETUP_DESC)"
if wants build; then build || exit 1
elif [ ! -x "$BUILD/bin/nectar-train" ]; then report "build" "FAILED (--only without build, and no earlier build in $BUILD)"; exit 1
fi
wants tests && tests
wants train && train
wants bench && bench
if wants nectargan; then
  if [ ${#BENCH_CONFIGS[@]} -eq 0 ] && ! wants bench; then report "nectargan" "skipped (needs the bench step in the same run)" optional
  else nectargan; fi
fi
exit 0
