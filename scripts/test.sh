#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds keygate twice (normally, and with AddressSanitizer + UndefinedBehaviorSanitizer) with
# warnings as errors, and runs every test against each build: the C unit tests and fuzz-corpus
# replays under ctest, then the end-to-end suite (pytest, real clients, real binary).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
bash scripts/lint.sh

PY=/usr/bin/python3   # Debian's Python sees Debian's python3-* packages; pyenv's does not
run_suite() { # build-dir extra-cmake-args...
    local dir=$1; shift
    echo "== build $dir"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    # warnings are errors (-Werror), so the build's status says it all
    if ! cmake --build "$dir" -j"$(nproc)" >"$dir/build.log" 2>&1; then
        cat "$dir/build.log"
        return 1
    fi
    echo "== unit tests ($dir)"
    (cd "$dir" && ctest --output-on-failure -j"$(nproc)")
    echo "== end-to-end tests ($dir)"
    # a private --basetemp: pytest prunes old temp dirs, and concurrent runs would prune each other's
    local tmp
    tmp=$(mktemp -d)
    KEYGATE_BIN="$PWD/$dir/keygate" $PY -m pytest -q -p no:cacheprovider --basetemp="$tmp" tests/e2e
    rm -rf "$tmp"
}
run_suite build
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    run_suite build-asan -DKG_SANITIZE=address,undefined
echo "== all tests passed (normal and sanitizer builds)"
