#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds keygate and runs it on the embedded default: SQLite under ./var, self-signed HTTPS on
# https://127.0.0.1:8443. Extra arguments go to `keygate serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target keygate >/dev/null
exec ./build/keygate serve "$@"
