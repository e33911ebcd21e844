#!/usr/bin/env bash
# Idempotent set-up: libtorch (apt-get when missing and LIBTORCH is unset;
# native/build.js says which libtorch it uses),
# npm packages, the native addon and the TypeScript build. Safe to re-run:
# each step does nothing when its output is up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'autodeeplab setup: %s\n' "$*" >&2; }
# apt_install PACKAGE...: Debian's packages, as root or through sudo; returns non-zero when that cannot be done.
apt_install() {
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { say "need root (or sudo) to run apt-get install -y $*"; return 1; }
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ -z "${LIBTORCH:-}" ] && { [ ! -e /usr/include/torch/csrc/api/include/torch/version.h ] || [ ! -e /usr/include/gloo/context.h ]; }; then
  say "libtorch not found; installing Debian's libtorch-dev (set LIBTORCH to an unpacked libtorch or a PyTorch wheel's torch directory to use another)"
  apt_install libtorch-dev libgloo-dev
fi

# A fast BLAS for Debian's libtorch: it is built with BLAS_INFO=generic and calls libblas.so.3, which a
# fresh Debian points at the reference BLAS, many times slower. Debian's OpenBLAS, OpenMP flavour (threads
# follow libtorch's OpenMP settings), takes over that alternative (figures: docs/engine.md#blas;
# `autodeeplab doctor` prints it). A BLAS the user chose (not the reference) is kept.
BLAS_LINK=/usr/lib/x86_64-linux-gnu/libblas.so.3
OPENBLAS=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
if [ -z "${LIBTORCH:-}" ] && [ "$(uname -m)" = x86_64 ] && { [ ! -e "$OPENBLAS" ] || [ "$(readlink -f "$BLAS_LINK")" = /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 ]; }; then
  if [ ! -e "$OPENBLAS" ]; then
    say "installing Debian's OpenBLAS (libopenblas0-openmp) for libtorch's matrix products (the reference BLAS is 10-20x slower)"
    apt_install libopenblas0-openmp
  fi
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if [ "$(readlink -f "$BLAS_LINK")" = /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 ]; then
    say "pointing libblas.so.3 and liblapack.so.3 at OpenBLAS (update-alternatives)"
    $SUDO update-alternatives --quiet --set libblas.so.3-x86_64-linux-gnu "$OPENBLAS"
    $SUDO update-alternatives --quiet --set liblapack.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-openmp/liblapack.so.3
  fi
fi

# tcmalloc as node's malloc (bin/node-tcmalloc preloads it; AUTODEEPLAB_MALLOC=system opts out): with
# glibc's malloc a search iteration takes 10-30% longer (docs/performance.md#the-allocator).
TCMALLOC="/usr/lib/$(uname -m)-linux-gnu/libtcmalloc_minimal.so.4"
if [ ! -e "$TCMALLOC" ] && command -v apt-get >/dev/null; then
  say "installing Debian's tcmalloc (libtcmalloc-minimal4), the allocator bin/autodeeplab runs node with"
  apt_install libtcmalloc-minimal4 \
    || say "could not install libtcmalloc-minimal4; node runs on glibc's malloc (slower: docs/performance.md#the-allocator)"
fi

# Debian packages for the tests only (never the runtime): apt_for_tests PACKAGE WHY.
apt_for_tests() {
  say "installing Debian's $1 $2"
  apt_install "$1"
}
# --with-browser: the report test renders pages in Debian's headless Chromium.
if [ "${1:-}" = "--with-browser" ] && ! command -v chromium >/dev/null; then
  apt_for_tests chromium "for the report rendering test"
fi
# ...the tests' PyTorch reference: torchrun's agent store in the distributed test.
if [ "${1:-}" = "--with-browser" ] && ! /usr/bin/python3 -c 'import torch.distributed' >/dev/null 2>&1; then
  apt_for_tests python3-torch "for the tests' PyTorch reference"
fi
# ...and `ip` for the two-host test (network namespaces joined by veth pairs).
if [ "${1:-}" = "--with-browser" ] && ! command -v ip >/dev/null; then
  apt_for_tests iproute2 "for the two-host test's network namespaces"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ] \
   || { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  say "installing npm packages"
  # onnxruntime-node ships its CPU binary in the package; skip its optional GPU download.
  ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error
fi

node native/build.js
./node_modules/.bin/tsc -p tsconfig.json --incremental --tsBuildInfoFile dist/.tsbuildinfo
# Which BLAS libtorch runs on, node's malloc, and the sgemm speed (a warning when it is the slow reference BLAS).
bin/autodeeplab doctor 2>&1 | sed 's/^/autodeeplab setup: /' >&2 || true
