#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Token issuance benchmark (not a test): client-credentials grants over keep-alive HTTPS with
# wrk, RS256 and ES256, printing tokens/s, p50, p99 and keygate's CPU time per token next to the
# signing time OpenSSL itself reports on this machine in the same run, and keygate's RSS after
# the run. Each token's CPU is split by thread: the HTTP threads (parsing, the grant, signing,
# TLS), next to what a trivial HTTPS request costs them, and the audit writer (group commit).
# Usage: bench/token.sh [seconds-per-run] [connections] [sqlite|postgresql|two-node|postgresql-remote]
# (store modes: bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONNS=${2:-32}
MODE=${3:-sqlite}
. bench/lib.sh
trap cleanup EXIT
store_setup

# OpenSSL's own signing time on one core (`openssl speed`), measured right before each keygate
# run and again right after it, and averaged: this shared machine's speed drifts by 20% and more
# within minutes (seen: RSA-2048 from 254 to 323 us), so a reference taken once is not enough.
sign_us() { # rsa2048 | ecdsap256
    openssl speed -seconds 3 "$1" 2>/dev/null |
        awk '/^rsa 2048 bits|256 bits ecdsa \(nistp256\)/ {printf "%.1f", 1e6 / $(NF-1)}'
}

for alg in RS256 ES256; do
    t=$(echo "$alg" | tr 'A-Z' 'a-z')
    k tenant create "$t" --signing-alg "$alg" >/dev/null
done
k api create api://bench --permission read >/dev/null
APP=$(k app create --tenant rs256 bench --json)
CID=$(echo "$APP" | sed -n 's/.*"client_id": "\([^"]*\)".*/\1/p')
SEC=$(echo "$APP" | sed -n 's/.*"client_secret": "\([^"]*\)".*/\1/p')
APP2=$(k app create --tenant es256 bench --json)
CID2=$(echo "$APP2" | sed -n 's/.*"client_id": "\([^"]*\)".*/\1/p')
SEC2=$(echo "$APP2" | sed -n 's/.*"client_secret": "\([^"]*\)".*/\1/p')
PORT=$(( 20000 + RANDOM % 20000 ))
remote_store
start_nodes "$PORT"

run() { # tenant client secret alg openssl-alg
    cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials&client_id=$2&client_secret=$3&scope=api%3A%2F%2Fbench%2F.default"
LUA
    cat bench/result.lua >>"$WORK/post.lua"
    local before after out ref1 ref2 h0 h1 a0 a1
    ref1=$(sign_us "$5")
    before=$(cpu_ticks)
    h0=$(thread_ticks MHD-worker)
    a0=$(thread_ticks kg-audit)
    out=$(wrk_nodes "$CONNS" "$WORK/post.lua" "/$1/oauth2/v2.0/token")
    after=$(cpu_ticks)
    h1=$(thread_ticks MHD-worker)
    a1=$(thread_ticks kg-audit)
    ref2=$(sign_us "$5")
    echo "$out" | grep RESULT | awk -v a="$4" -v s="$SECS" -v b="$before" -v e="$after" \
        -v tick="$TICK" -v r1="$ref1" -v r2="$ref2" -v http=$(( h1 - h0 )) \
        -v audit=$(( a1 - a0 )) -v trivial="$TRIVIAL" '{
        ref = (r1 + r2) / 2;
        n = $2 > 0 ? $2 : 1;
        cpu_us = (e - b) / tick * 1e6 / n;
        printf "%s: %d tokens in %ss = %.0f tokens/s, errors %d, p50 %.2f ms, p99 %.2f ms, " \
               "keygate CPU %.1f us/token = %.2fx OpenSSL sign (%.1f us: %s before, %s after)\n",
               a, $2, s, $2 / s, $3, $4 / 1000, $5 / 1000, cpu_us, cpu_us / ref, ref, r1, r2
        printf "  of which: HTTP threads %.1f us (a trivial HTTPS request: %.1f us), " \
               "audit writer %.1f us, the rest %.1f us\n", http / tick * 1e6 / n, trivial,
               audit / tick * 1e6 / n, (e - b - http - audit) / tick * 1e6 / n }'
}

# The floor under every token: keygate's CPU for GET /healthz on the same keep-alive connections.
trivial_us() {
    cp bench/result.lua "$WORK/get.lua"
    local before after out
    before=$(cpu_ticks)
    out=$(wrk_nodes "$CONNS" "$WORK/get.lua" /healthz)
    after=$(cpu_ticks)
    echo "$out" | awk -v b="$before" -v e="$after" -v tick="$TICK" \
        '{printf "%.1f", (e - b) / tick * 1e6 / ($2 > 0 ? $2 : 1)}'
}
TRIVIAL=$(trivial_us)
echo "== keygate ($(nproc) cores shared with wrk, $CONNS keep-alive HTTPS connections; $(mode_line))"
run rs256 "$CID" "$SEC" RS256 rsa2048
run es256 "$CID2" "$SEC2" ES256 ecdsap256
for i in "${!PIDS[@]}"; do
    M=$(curl -sk "https://127.0.0.1:${PORTS[$i]}/metrics")
    TOTAL=$(echo "$M" | awk '/^keygate_tokens_issued_total/ {s += $2} END {print s}')
    echo "node $((i + 1)): RSS after $TOTAL tokens $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/${PIDS[$i]}/status");" \
        "audit: $(echo "$M" | awk '/^keygate_audit_(events_total|commits_total|batch_max|gather_seconds_total)/ {printf "%s=%s ", $1, $2}')"
done
