#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages keygate needs, only those missing. Usage: deps.sh build|test|bench
set -euo pipefail
BUILD="build-essential cmake pkg-config libmicrohttpd-dev libgnutls28-dev libssl-dev libcjose-dev libjansson-dev
libcurl4-openssl-dev libsqlite3-dev libpq-dev libargon2-dev libunistring-dev"
TEST="$BUILD libcmocka-dev clang clang-format libclang-rt-14-dev curl sqlite3 python3-pytest python3-requests
python3-jwt python3-cryptography python3-authlib python3-msal python3-requests-oauthlib
chromium chromium-driver python3-selenium nginx postgresql wrk"
BENCH="$BUILD wrk openssl nginx-light postgresql python3 sqlite3"
case "${1:-build}" in
    build) want=$BUILD ;;
    test) want=$TEST ;;
    bench) want=$BENCH ;;
    *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac
missing=()
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
