#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# /verify benchmark (not a test). wrk over keep-alive HTTPS against, in one run:
#   - GET /healthz of the same server (the trivial endpoint: the HTTP stack's floor);
#   - /verify with one cached JWT, with one cached API key, and cycling through 4,000 distinct
#     JWTs (each verified with RS256 on first use, then cached);
#   - the store's size: 1,000 keys in use at half the maximum rate, with 1,000 and with 1,000,000
#     keys in the store (two servers, alternated); a cached key, and 100,000 keys in use, most
#     never seen before, with 1,000,000;
#   - the reference: nginx "return 200" over HTTPS and over HTTP, on the same machine under the same
#     wrk load, with nginx's own CPU time per request;
#   - nginx auth_request -> keygate (deploy/nginx/keygate.conf) against nginx alone.
# Prints requests/s, p50, p99 and the server's CPU time per request, and keygate's CPU per
# decision as a multiple of nginx's per static 200 (shared VMs drift; a ratio within one run
# does not). On PostgreSQL, with two nodes and with a PostgreSQL made remote (bench/lib.sh) it
# runs the decision sections (healthz, cached JWT and key, 4,000 JWTs, paced) and a cached key
# beside never-seen ones; the plain-HTTP, store-size and nginx sections are SQLite runs.
# Usage: bench/verify.sh [seconds-per-run] [connections] [sqlite|postgresql|two-node|postgresql-remote]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONNS=${2:-32}
MODE=${3:-sqlite}
NGINX_PID=""
BIG_PID=""
HPID=""
. bench/lib.sh
trap 'kill $NGINX_PID $BIG_PID $HPID 2>/dev/null || true; cleanup' EXIT
store_setup
json() { sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p"; }

k tenant create contoso >/dev/null
k api create api://bench --permission r:read >/dev/null
k api route add api://bench GET /things/{ws} --permission r:read --workspace-param ws >/dev/null
k workspace create --tenant contoso ws1 >/dev/null
KEY=$(k key create --tenant contoso --workspace ws1 --name bench --role Reader --json | json key)
APP=$(k app create --tenant contoso svc --json)
CID=$(echo "$APP" | json client_id)
SEC=$(echo "$APP" | json client_secret)
k app grant --tenant contoso "$CID" --api api://bench --permission r:read >/dev/null
# 999 more keys, so the store holds 1,000: real ones (bench/keys.py), so that runs can send them
/usr/bin/python3 bench/keys.py 1000000 "$WORK/keys" "$WORK/hashes"
add_keys() { # sqlite-db first last: the keys of lines first..last of $WORK/hashes
    sed -n "$2,$3p" "$WORK/hashes" >"$WORK/h.csv"
    sqlite3 "$1" <<SQL
CREATE TEMP TABLE h(hash TEXT);
.mode csv
.import $WORK/h.csv h
INSERT INTO api_keys SELECT lower(hex(randomblob(16))), tenant_id, workspace_id, 'k' || ($2 + h.rowid),
  role_id, h.hash, 'kg_key_x', 'bench', created_at, 0, 0, 0, 0 FROM h, (SELECT * FROM api_keys LIMIT 1);
SQL
}
if [ "$MODE" = sqlite ]; then
    add_keys "$D/keygate.db" 1 999
    # the same store grown to 1,000,000 keys, for a second server in the store-size section
    cp -a "$D" "$WORK/big"
    add_keys "$WORK/big/keygate.db" 1000 999999
else
    psql -q "${STORE[1]}" -c "INSERT INTO api_keys SELECT md5(random()::text), tenant_id,
      workspace_id, 'k'||i, role_id, md5(random()::text) || md5(random()::text), 'kg_key_x',
      'bench', created_at, 0, 0, 0, 0 FROM generate_series(1, 999) i,
      (SELECT * FROM api_keys LIMIT 1) k;"
fi

PORT=$(( 20000 + RANDOM % 20000 ))
remote_store
start_nodes "$PORT"
TOKEN=$(curl -sk "$URL/contoso/oauth2/v2.0/token" -d grant_type=client_credentials \
    -d "client_id=$CID" -d "client_secret=$SEC" -d scope=api://bench/.default |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
echo "== tokens for the never-seen run"
NEW=$WORK/tokens.lua
{
    echo "tokens = {"
    for _ in $(seq 4000); do
        curl -sk "$URL/contoso/oauth2/v2.0/token" -d grant_type=client_credentials \
            -d "client_id=$CID" -d "client_secret=$SEC" -d scope=api://bench/.default |
            sed -n 's/.*"access_token":"\([^"]*\)".*/"\1",/p'
    done
    echo "}"
} >"$NEW"

script() { # header-lines...
    {
        echo 'wrk.method = "GET"'
        for h in "$@"; do echo "wrk.headers[\"${h%%:*}\"] = \"${h#*: }\""; done
        cat bench/result.lua
    } >"$WORK/s.lua"
}
run() { # label url [cpu:yes|no]
    local before after ub ua out
    before=$(cpu_ticks); ub=$(cpu_ticks user)
    case "$2" in
    "$URL"*) out=$(wrk_nodes "$CONNS" "$WORK/s.lua" "${2#"$URL"}") ;; # the nodes
    *) out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$WORK/s.lua" "$2") ;; # another server
    esac
    after=$(cpu_ticks); ua=$(cpu_ticks user)
    echo "$out" | grep RESULT | awk -v l="$1" -v s="$SECS" -v b="$before" -v e="$after" \
        -v ub="$ub" -v ua="$ua" -v tick="$TICK" -v cpu="${3:-yes}" -v w="$WORK" -v who="$WHO" '{
        n = ($2 > 0 ? $2 : 1);
        c = (e - b) / tick * 1e6 / n;
        u = (ua - ub) / tick * 1e6 / n;
        printf "%-38s %8.0f req/s  errors %-6d p50 %6.2f ms  p99 %6.2f ms", l, $2 / s, $3,
               $4 / 1000, $5 / 1000;
        printf "%.3f %.3f\n", $4 / 1000, $5 / 1000 > (w "/lat");
        if (cpu == "yes") { printf "  %s CPU %5.1f us/req (user %4.1f)", who, c, u; printf "%.1f\n", c > (w "/cpu") }
        printf "\n" }'
}
# The decision's own cost: CPU per request of the last run over that of the trivial endpoint.
over() { # trivial-cpu label
    awk -v t="$1" -v c="$(cat "$WORK/cpu")" -v l="$2" \
        'BEGIN {printf "  %s: %+.1f us of keygate CPU over the trivial endpoint\n", l, c - t}'
}
WHO=keygate
# The reference server: nginx, one worker per core as keygate has one thread per core, serving a
# static 200 over HTTPS (with keygate's certificate) and over HTTP, with the auth_request site of
# deploy/nginx/keygate.conf beside it.
NP=$(( PORT + 1 )); UP=$(( PORT + 2 )); SP=$(( PORT + 4 ))
mkdir -p "$WORK/ngx"
sed -e "s|@KEYGATE@|127.0.0.1:$PORT|; s|@CA@|$D/tls/ca.pem|g; s|@TLS_NAME@|localhost|g" \
    -e "s|@API@|api%3A%2F%2Fbench|g; s|@UPSTREAM@|127.0.0.1:$UP|; s|@LISTEN@|127.0.0.1:$NP|" \
    deploy/nginx/keygate.conf >"$WORK/ngx/keygate.conf"
cat >"$WORK/ngx/nginx.conf" <<NGX
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes $(nproc);
error_log $WORK/ngx/error.log warn;
pid $WORK/ngx/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/ngx/b; proxy_temp_path $WORK/ngx/p;
    fastcgi_temp_path $WORK/ngx/f; uwsgi_temp_path $WORK/ngx/u; scgi_temp_path $WORK/ngx/s;
    server {
        listen 127.0.0.1:$UP;
        listen 127.0.0.1:$SP ssl;
        ssl_certificate $D/tls/server.pem;
        ssl_certificate_key $D/tls/server.key;
        keepalive_requests 1000000000;
        location / { return 200 "ok\n"; }
    }
    include $WORK/ngx/keygate.conf;
}
NGX
nginx -p "$WORK/ngx" -c "$WORK/ngx/nginx.conf" -g "daemon off;" &
NGINX_PID=$!
for _ in $(seq 100); do curl -s "http://127.0.0.1:$UP/" >/dev/null && break; sleep 0.1; done
# A run against nginx, with the CPU of its worker processes.
nginx_run() { # label url
    local saved=("${PIDS[@]}")
    mapfile -t PIDS < <(pgrep -P "$NGINX_PID")
    WHO=nginx
    run "$1" "$2"
    PIDS=("${saved[@]}")
    WHO=keygate
}
# keygate's CPU per request in the last run as a multiple of nginx's per static 200.
vs_nginx() { # nginx-cpu label
    awk -v t="$1" -v c="$(cat "$WORK/cpu")" -v l="$2" \
        'BEGIN {printf "  %s: %.2f times nginx'"'"'s CPU per static 200\n", l, c / t}'
}
echo "== the reference: nginx return 200, $(nproc) workers, the same wrk load"
script
nginx_run "nginx return 200 over HTTPS" "https://127.0.0.1:$SP/"
NGINX_TLS=$(cat "$WORK/cpu")
nginx_run "nginx return 200 over HTTP" "http://127.0.0.1:$UP/"
NGINX_HTTP=$(cat "$WORK/cpu")

echo "== keygate ($(nproc) cores shared with wrk, $CONNS keep-alive HTTPS connections, ${SECS}s each; $(mode_line))"
V="$URL/verify?api=api%3A%2F%2Fbench"
script
run "GET /healthz (trivial endpoint)" "$URL/healthz"
TRIVIAL=$(cat "$WORK/cpu")
vs_nginx "$NGINX_TLS" "the trivial endpoint"
script "X-Original-URI: /things/ws1" "Authorization: Bearer $TOKEN"
run "/verify cached JWT" "$V"
over "$TRIVIAL" "a cached JWT decision"
vs_nginx "$NGINX_TLS" "a cached JWT decision"
script "X-Original-URI: /things/ws1" "API-Key: $KEY"
run "/verify cached API key (1,000 keys)" "$V"
over "$TRIVIAL" "a cached API key decision"
vs_nginx "$NGINX_TLS" "a cached API key decision"
{
    echo 'wrk.method = "GET"'
    echo 'wrk.headers["X-Original-URI"] = "/things/ws1"'
    cat "$NEW"
    cat <<'LUA'
i = 0
request = function()
  i = i + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[(i % #tokens) + 1]
  return wrk.format()
end
LUA
    cat bench/result.lua
} >"$WORK/s.lua"
sed -i 's/^i = 0$/i = math.random(1, 4000)/' "$WORK/s.lua"
run "/verify 4,000 JWTs (each new once)" "$V"

echo "== at about half the maximum rate (64 connections, one request per 3 ms each)"
{
    echo 'wrk.method = "GET"'
    echo 'wrk.headers["X-Original-URI"] = "/things/ws1"'
    echo "wrk.headers[\"Authorization\"] = \"Bearer $TOKEN\""
    echo 'delay = function() return 3 end'
    cat bench/result.lua
} >"$WORK/s.lua"
CONNS_SAVED=$CONNS; CONNS=64
run "/verify cached JWT, paced" "$V"
CONNS=$CONNS_SAVED
if [ "$MODE" != sqlite ]; then
    # A decision that needs the store must not hold up those that do not (endpoints/verify.c):
    # a cached key at a steady rate, alone, then beside 16 connections sending keys this server
    # has never seen (100,000 real ones), each a store read.
    echo "== a cached key, paced (16 connections, one request per 2 ms each), alone and beside never-seen keys"
    sed -n 2000,101999p "$WORK/hashes" >"$WORK/h.txt"
    psql -q "$DB_URL" <<SQL
CREATE TEMP TABLE h(hash TEXT);
\copy h FROM '$WORK/h.txt'
INSERT INTO api_keys SELECT md5(random()::text), tenant_id, workspace_id, 'n' || row_number()
  OVER (), role_id, h.hash, 'kg_key_x', 'bench', created_at, 0, 0, 0, 0 FROM h,
  (SELECT * FROM api_keys LIMIT 1) k;
ANALYZE api_keys;
SQL
    sed -n 2000,101999p "$WORK/keys" >"$WORK/many"
    {
        echo 'wrk.method = "GET"'
        echo 'wrk.headers["X-Original-URI"] = "/things/ws1"'
        echo "keys = {}"
        echo "for l in io.lines(\"$WORK/many\") do keys[#keys + 1] = l end"
        echo 'request = function()'
        echo '  wrk.headers["API-Key"] = keys[math.random(1, #keys)]'
        echo '  return wrk.format()'
        echo 'end'
        cat bench/result.lua
    } >"$WORK/new.lua"
    script "X-Original-URI: /things/ws1" "API-Key: $KEY"
    sed -i '1a delay = function() return 2 end' "$WORK/s.lua"
    CONNS=16
    run "cached API key, paced, alone" "$V"
    wrk -t1 -c16 -d"$(( SECS + 1 ))s" -s "$WORK/new.lua" "$V" >"$WORK/bg" &
    BG=$!
    sleep 0.5
    run "the same, beside never-seen keys" "$V" no # (the CPU would include theirs)
    wait $BG
    awk -v s="$(( SECS + 1 ))" '/^RESULT/ {printf "  %-36s %8.0f req/s  errors %-6d p50 %6.2f ms  p99 %6.2f ms\n",
        "the never-seen keys meanwhile", $2 / s, $3, $4 / 1000, $5 / 1000}' "$WORK/bg"
    CONNS=$CONNS_SAVED
    for i in "${!PIDS[@]}"; do
        echo "node $((i + 1)) RSS: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/${PIDS[$i]}/status")"
    done
    exit 0
fi

echo "== the same server behind a TLS-terminating proxy on loopback (--insecure-http)"
HPORT=$(( PORT + 3 ))
$KG serve --data "$D" --listen 127.0.0.1:$HPORT --insecure-http --public-url "$URL" --log-level warn \
    >"$WORK/out2" 2>"$WORK/log2" &
HPID=$!
for _ in $(seq 100); do curl -s "http://127.0.0.1:$HPORT/healthz" >/dev/null && break; sleep 0.1; done
MAIN_PIDS=("${PIDS[@]}"); PIDS=("$HPID")
script
run "GET /healthz over HTTP" "http://127.0.0.1:$HPORT/healthz"
TRIVIAL=$(cat "$WORK/cpu")
script "X-Original-URI: /things/ws1" "Authorization: Bearer $TOKEN"
run "/verify cached JWT over HTTP" "http://127.0.0.1:$HPORT/verify?api=api%3A%2F%2Fbench"
over "$TRIVIAL" "a cached JWT decision over HTTP"
vs_nginx "$NGINX_HTTP" "a cached JWT decision over HTTP"
script "X-Original-URI: /things/ws1" "API-Key: $KEY"
run "/verify cached API key over HTTP" "http://127.0.0.1:$HPORT/verify?api=api%3A%2F%2Fbench"
over "$TRIVIAL" "a cached API key decision over HTTP"
vs_nginx "$NGINX_HTTP" "a cached API key decision over HTTP"
kill $HPID; wait $HPID 2>/dev/null || true; HPID=""
PIDS=("${MAIN_PIDS[@]}")

echo "== store size: 1,000 against 1,000,000 API keys; the same 1,000 keys in use, at about half the maximum rate"
BP=$(( PORT + 5 ))
$KG serve --data "$WORK/big" --listen 127.0.0.1:$BP --public-url "$URL" --log-level warn \
    >"$WORK/out3" 2>"$WORK/log3" &
BIG_PID=$!
for _ in $(seq 100); do curl -sk "https://127.0.0.1:$BP/healthz" >/dev/null && break; sleep 0.1; done
BV="https://127.0.0.1:$BP/verify?api=api%3A%2F%2Fbench"
# wrk sends a key picked at random from a file of keys with every request
script_keys() { # keys-file [delay-ms]
    {
        echo 'wrk.method = "GET"'
        echo 'wrk.headers["X-Original-URI"] = "/things/ws1"'
        echo "keys = {}"
        echo "for l in io.lines(\"$1\") do keys[#keys + 1] = l end"
        echo 'request = function()'
        echo '  wrk.headers["API-Key"] = keys[math.random(1, #keys)]'
        echo '  return wrk.format()'
        echo 'end'
        [ -n "${2:-}" ] && echo "delay = function() return $2 end"
        cat bench/result.lua
    } >"$WORK/s.lua"
}
# One keep-alive connection, one request at a time, each with a key the server has not seen: the
# latency of a decision that reads the store.
first_use() { # label verify-url keys-file
    local args=() k
    while read -r k; do
        args+=(--next -sk -o /dev/null -w "%{time_starttransfer} %{time_pretransfer}\n"
            -H "API-Key: $k" -H "X-Original-URI: /things/ws1" "$2")
    done <"$3"
    curl -sk -o /dev/null "${2%%/verify*}/healthz" "${args[@]}" |
        awk '{print ($1 - $2) * 1e6}' | sort -n | awk -v l="$1" '{v[NR] = $1}
        END {printf "%-38s %d keys, one at a time: median %4.0f us  p90 %4.0f us\n", l, NR,
             v[int(NR / 2)], v[int(NR * 0.9)]}'
}
sed -n 1,300p "$WORK/keys" >"$WORK/first"
first_use "first use (1,000 keys)" "$V" "$WORK/first"
first_use "first use (1,000,000 keys)" "$BV" "$WORK/first"
{ sed -n 1,999p "$WORK/keys"; echo "$KEY"; } >"$WORK/in-use"
script_keys "$WORK/in-use" 3
CONNS_SAVED=$CONNS; CONNS=64
MAIN_PIDS=("${PIDS[@]}")
for round in 1 2 3; do # alternated: this VM's latency drifts from minute to minute
    PIDS=("${MAIN_PIDS[@]}")
    run "1,000 keys in the store ($round)" "$V"
    cat "$WORK/lat" >>"$WORK/lat-small"
    PIDS=("$BIG_PID")
    run "1,000,000 keys in the store ($round)" "$BV"
    cat "$WORK/lat" >>"$WORK/lat-big"
done
CONNS=$CONNS_SAVED
med() { sort -n | sed -n 2p; } # the median of three
S50=$(cut -d' ' -f1 "$WORK/lat-small" | med); S99=$(cut -d' ' -f2 "$WORK/lat-small" | med)
B50=$(cut -d' ' -f1 "$WORK/lat-big" | med); B99=$(cut -d' ' -f2 "$WORK/lat-big" | med)
awk -v a="$S50" -v b="$B50" -v c="$S99" -v d="$B99" 'BEGIN {
    printf "  median of three: p50 %.2f ms against %.2f ms (%+.0f%%), p99 %.2f ms against %.2f ms (%+.0f%%)\n",
        a, b, (b / a - 1) * 100, c, d, (d / c - 1) * 100 }'
echo "== 1,000,000 keys in the store"
script "X-Original-URI: /things/ws1" "API-Key: $KEY"
run "/verify cached API key (1,000,000)" "$BV"
vs_nginx "$NGINX_TLS" "a cached API key decision, 1,000,000 keys"
sed -n 2000,101999p "$WORK/keys" >"$WORK/many"
script_keys "$WORK/many"
run "/verify 100,000 keys, each new at first" "$BV"
echo "  (a store read on the first use of each key, and a last-used time written behind for each)"
echo "  RSS of this server: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$BIG_PID/status")"
kill "$BIG_PID"; wait "$BIG_PID" 2>/dev/null || true; BIG_PID=""
PIDS=("${MAIN_PIDS[@]}")

echo "== nginx auth_request -> keygate, against nginx alone"
script
run "nginx return 200 (alone)" "http://127.0.0.1:$UP/things/ws1" no
script "API-Key: $KEY"
run "nginx auth_request -> keygate" "http://127.0.0.1:$NP/things/ws1"
echo "keygate RSS: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/${PIDS[0]}/status")"
