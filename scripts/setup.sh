#!/usr/bin/env bash
# setup.sh - makes a fresh Debian / Ubuntu machine ready for tide, then builds it:
#   1. installs the build / test / runtime packages that are not installed yet
#      (apt-get update and sudo only when something is missing; sudo only when not root);
#   2. installs the web UI's npm packages, pinned by package-lock.json (npm ci: cytoscape,
#      Chart.js, esbuild, puppeteer-core for the browser tests) when node_modules is missing
#      or older than the lock file;
#   3. configures and builds tide into ./build (RelWithDebInfo, -j$(nproc)); the build bundles
#      the web UI into ./build/ui (ui/build.mjs, esbuild), where tide serve finds it.
# Idempotent: a second run installs nothing and only rebuilds what changed.
# Environment: TIDE_SETUP_NO_BUILD=1 only installs packages; TIDE_CMAKE_ARGS adds options to
# the configure step (e.g. "-DTIDE_WERROR=OFF").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Build tools and libraries (see CMakeLists.txt), python3 for the benchmarks and acceptance
# scripts, clang for the libFuzzer targets, clang-format for the format check, time (/usr/bin/time -v) for bench/ingest_bench.sh.
PACKAGES=(
    cmake gcc make pkg-config
    libsqlite3-dev libjansson-dev libzstd-dev zlib1g-dev libpcre2-dev libssl-dev libxxhash-dev
    libcurl4-openssl-dev
    libmimalloc-dev
    # tide serve: libmicrohttpd (HTTPS through GnuTLS); curl drives it in the tests, wrk and
    # h2load (nghttp2-client) load it in bench/serve_bench.sh
    libmicrohttpd-dev curl wrk nghttp2-client
    python3 clang clang-format time
    # real consumers of `tide export` artifacts, run by tests/integration/export_consumers.sh
    bind9-utils bind9-dnsutils unbound nftables squid yara
    # the web UI: node + npm bundle it (ui/build.mjs); chromium runs the browser tests
    # (tests/ui/, driven by puppeteer-core)
    nodejs npm chromium openssl
)

installed() {
    # NodeSource's nodejs package carries npm itself and conflicts with Debian's npm package:
    # a working npm command is enough
    [ "$1" = npm ] && command -v npm >/dev/null 2>&1 && return 0
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for p in "${PACKAGES[@]}"; do
        installed "$p" || missing+=("$p")
    done
else
    echo "setup.sh: dpkg-query not found (not Debian?): make sure these are installed:" >&2
    echo "  ${PACKAGES[*]}" >&2
fi

if ((${#missing[@]} > 0)); then
    echo "setup.sh: installing ${missing[*]}"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "setup.sh: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
            exit 1
        fi
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

# the web UI's npm packages, exactly as package-lock.json pins them
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup.sh: npm ci (the web UI's packages)"
    npm ci --no-audit --no-fund
fi

if [ "${TIDE_SETUP_NO_BUILD:-0}" = 1 ]; then
    exit 0
fi

jobs=$(nproc 2>/dev/null || echo 2)
# shellcheck disable=SC2086 # TIDE_CMAKE_ARGS is a list of options
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo ${TIDE_CMAKE_ARGS:-}
cmake --build build -j"$jobs"
