#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Mixed token load (not a test): refresh-token grants, each a rotation written to the main store
# before its answer, beside client-credentials grants, which write only to the audit trail
# (group commit). Runs each alone and then both at once on half the connections each, and
# prints for every run the grants/s, p50, p99 and keygate's CPU per grant, so that what the two
# cost each other shows: whether the main store's rotations and the audit writer's commits wait
# for one another (they lock apart: keygate.db and audit.db on SQLite, rows and the audit
# schema on PostgreSQL), and how much of a refresh is its fsync.
# Usage: bench/refresh.sh [seconds-per-run] [connections] [sqlite|postgresql|postgresql-remote]
# (store modes: bench/lib.sh; two-node is not offered: each wrk thread owns a set of refresh
# chains, and two wrk processes would share them).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONNS=${2:-32}
MODE=${3:-sqlite}
[ "$MODE" = two-node ] && { echo "two-node is not offered (see the top of this file)" >&2; exit 2; }
. bench/lib.sh
trap cleanup EXIT
store_setup

k tenant create bench >/dev/null
k api create api://bench --permission read --scope access_as_user >/dev/null
APP=$(k app create --tenant bench mixed --grant password --grant client_credentials --json)
CID=$(echo "$APP" | sed -n 's/.*"client_id": "\([^"]*\)".*/\1/p')
SEC=$(echo "$APP" | sed -n 's/.*"client_secret": "\([^"]*\)".*/\1/p')
k app grant --tenant bench "$CID" --api api://bench --permission read >/dev/null
echo 'bench password 1' | k user create --tenant bench alice --password-stdin >/dev/null
PORT=$(( 20000 + RANDOM % 20000 ))
remote_store
start_nodes "$PORT"
TOKEN=/bench/oauth2/v2.0/token

# Refresh chains, each started by a password grant (argon2: done before any run), in a file the
# wrk threads split between them.
chains() { # count file
    local answer rt
    : >"$2"
    for _ in $(seq "$1"); do
        answer=$(curl -sk "$URL$TOKEN" -d grant_type=password -d "client_id=$CID" \
            -d "client_secret=$SEC" -d username=alice -d 'password=bench password 1' \
            --data-urlencode 'scope=api://bench/access_as_user offline_access')
        rt=$(echo "$answer" | sed -n 's/.*"refresh_token":"\([^"]*\)".*/\1/p')
        [ -n "$rt" ] || { echo "no refresh chain: $answer" >&2; exit 1; }
        echo "$rt" >>"$2"
    done
}

# wrk scripts: client credentials; refresh grants, each thread redeeming the newest token of
# each of its chains (a connection has one request outstanding, so a thread never runs short).
cat >"$WORK/cc.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials&client_id=$CID&client_secret=$SEC&scope=api%3A%2F%2Fbench%2F.default"
LUA
cat >"$WORK/rt.lua" <<LUA
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
  thread:set("nthreads", 2) -- wrk_nodes runs two threads against a single node
end
local pool = {}
function init(args)
  local i = 0
  for line in io.lines(os.getenv("RT_FILE")) do
    if i % nthreads == id then pool[#pool + 1] = line end
    i = i + 1
  end
end
function request()
  local rt = table.remove(pool, 1) or "kg_rt_exhausted"
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"},
    "grant_type=refresh_token&client_id=$CID&client_secret=$SEC&refresh_token=" .. rt)
end
function response(status, headers, body)
  local rt = body:match('"refresh_token":"([^"]+)"')
  if rt then pool[#pool + 1] = rt end
end
LUA
cat bench/result.lua >>"$WORK/cc.lua"
cat bench/result.lua >>"$WORK/rt.lua"

# Prints one line per load run at once: name, grants/s, errors, p50, p99; then keygate's CPU
# per grant over all of them.
report() { # before-ticks after-ticks name:file...
    local b=$1 e=$2 total=0 line; shift 2
    for spec in "$@"; do
        line=$(grep RESULT "${spec#*:}")
        total=$(( total + $(echo "$line" | awk '{print $2}') ))
        echo "$line" | awk -v n="${spec%%:*}" -v s="$SECS" '{printf "  %-19s %6.0f grants/s, errors %d, p50 %.2f ms, p99 %.2f ms\n", n, $2 / s, $3, $4 / 1000, $5 / 1000}'
    done
    awk -v b="$b" -v e="$e" -v t="$TICK" -v n="$total" \
        'BEGIN {printf "  keygate CPU %.1f us per grant (%d grants)\n", (e - b) / t * 1e6 / (n > 0 ? n : 1), n}'
}

load() { # name conns script chains-file
    RT_FILE=$4 TAG=$1 wrk_nodes "$2" "$3" "$TOKEN" >"$WORK/$1.out"
}

echo "== keygate, mixed token load ($(nproc) cores shared with wrk; $(mode_line))"
# (a chain more per wrk thread: wrk calls request() once before the run, to check the script)
chains $(( CONNS + 2 )) "$WORK/rt_all"
chains $(( CONNS / 2 + 2 )) "$WORK/rt_half"

b=$(cpu_ticks); load cc "$CONNS" "$WORK/cc.lua" /dev/null; e=$(cpu_ticks)
echo "client credentials alone, $CONNS connections:"
report "$b" "$e" "client_credentials:$WORK/cc.out"

b=$(cpu_ticks); load rt "$CONNS" "$WORK/rt.lua" "$WORK/rt_all"; e=$(cpu_ticks)
echo "refresh alone, $CONNS connections (one chain each):"
report "$b" "$e" "refresh_token:$WORK/rt.out"

b=$(cpu_ticks)
load cc $(( CONNS / 2 )) "$WORK/cc.lua" /dev/null &
c=$!
load rt $(( CONNS / 2 )) "$WORK/rt.lua" "$WORK/rt_half"
wait "$c"
e=$(cpu_ticks)
echo "both at once, $(( CONNS / 2 )) connections each:"
report "$b" "$e" "client_credentials:$WORK/cc.out" "refresh_token:$WORK/rt.out"

M=$(curl -sk "$URL/metrics")
echo "audit: $(echo "$M" | awk '/^keygate_audit_(events_total|commits_total|commit_failures_total|batch_max)/ {printf "%s=%s ", $1, $2}')"
echo "RSS $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/${PIDS[0]}/status")"
