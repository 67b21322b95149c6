#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds keygate twice (normally, and with AddressSanitizer + UndefinedBehaviorSanitizer) with
# warnings as errors, and runs every test against each build: the C unit tests and fuzz-corpus
# replays under ctest (the store contract on SQLite and on a throwaway PostgreSQL cluster), then
# the end-to-end suite (pytest, real clients, real binary) on SQLite, and once more on PostgreSQL
# with the normal build. Each PostgreSQL cluster is started and stopped by the tests themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
bash scripts/lint.sh

PY=/usr/bin/python3   # Debian's Python sees Debian's python3-* packages; pyenv's does not
run_suite() { # build-dir store extra-cmake-args...
    local dir=$1 store=$2; shift 2
    echo "== build $dir"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    # warnings are errors (-Werror), so the build's status says it all
    if ! cmake --build "$dir" -j"$(nproc)" >"$dir/build.log" 2>&1; then
        cat "$dir/build.log"
        return 1
    fi
    echo "== unit tests ($dir)"
    (cd "$dir" && ctest --output-on-failure -j"$(nproc)")
    for db in $store; do
        echo "== end-to-end tests ($dir, $db)"
        # a private --basetemp: pytest prunes old temp dirs, and concurrent runs would prune each
        # other's
        local tmp
        tmp=$(mktemp -d)
        KEYGATE_TEST_DB=$db KEYGATE_BIN="$PWD/$dir/keygate" \
            $PY -m pytest -q -p no:cacheprovider --basetemp="$tmp" tests/e2e
        rm -rf "$tmp"
    done
}
run_suite build "sqlite postgresql"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    run_suite build-asan sqlite -DKG_SANITIZE=address,undefined
echo "== all tests passed (normal and sanitizer builds)"
