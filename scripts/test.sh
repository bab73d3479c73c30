#!/usr/bin/env bash
# test.sh - the README's "run the tests" command, also what CI runs (.ci/run):
#   1. scripts/setup.sh (packages, RelWithDebInfo build in ./build), ctest there;
#   2. an ASan + UBSan build in ./build-asan (TIDE_SANITIZE=address,undefined), ctest there.
# Both suites always run; the exit status is non-zero if either had a failure.
# Environment: TIDE_ASAN_CC picks the sanitizer build's compiler (default gcc; clang works too);
# TIDE_CMAKE_ARGS adds options to both configure steps.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh

jobs=$(nproc 2>/dev/null || echo 2)
status=0

echo "== ctest: ./build (RelWithDebInfo)"
ctest --test-dir build --output-on-failure --no-tests=error -j2 || status=1

echo "== ctest: ./build-asan (ASan + UBSan)"
cc=${TIDE_ASAN_CC:-gcc}
# shellcheck disable=SC2086 # TIDE_CMAKE_ARGS is a list of options
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER="$cc" \
    -DTIDE_SANITIZE=address,undefined ${TIDE_CMAKE_ARGS:-}
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-asan --output-on-failure --no-tests=error -j2 || status=1

if [ "$status" -ne 0 ]; then
    echo "test.sh: some tests failed (see above)" >&2
else
    echo "test.sh: all tests passed in ./build and ./build-asan"
fi
exit "$status"
