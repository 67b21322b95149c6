# SPDX-License-Identifier: Apache-2.0
# Sourced by bench/*.sh: the store mode and the keygate nodes a benchmark runs against.
#   MODE=sqlite      one node on the embedded SQLite store (the default)
#   MODE=postgresql  one node on a throwaway PostgreSQL cluster on this machine (scripts/pg.sh)
#   MODE=two-node    two nodes on that PostgreSQL, same master key and public URL, with the load
#                    split evenly between them (as a load balancer would)
#   MODE=postgresql-remote  one node on that PostgreSQL reached through bench/slownet.c, which
#                    delays every packet by 250 us each way: a database on another machine in the
#                    same data centre (this VM's kernel has no netem)
# Sourced from the repository's root with SECS and MODE set: installs what the benchmarks need,
# builds keygate (KG), and makes a scratch directory (WORK, removed by cleanup); sets D (node 1's
# data directory).
bash scripts/deps.sh bench >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target keygate >/dev/null
KG=$PWD/build/keygate
WORK=$(mktemp -d)
D=$WORK/data
STORE=()
PIDS=()
PORTS=()
PGDIR=""
RELAY_PID=""
TICK=$(getconf CLK_TCK)

store_setup() {
    case "$MODE" in
    sqlite) ;;
    postgresql | two-node | postgresql-remote)
        PGDIR=$(mktemp -d /tmp/keygate-bench-pg.XXXXXX)
        bash scripts/pg.sh start "$PGDIR" >/dev/null
        STORE=(--db "$(bash scripts/pg.sh createdb "$PGDIR" bench)")
        DB_URL=${STORE[1]} # PostgreSQL itself, also in postgresql-remote mode
        ;;
    *) echo "mode: sqlite | postgresql | two-node | postgresql-remote" >&2; exit 2 ;;
    esac
}

# In postgresql-remote mode, puts the relay between keygate and PostgreSQL (after the set-up,
# which talks to PostgreSQL directly).
remote_store() {
    [ "$MODE" = postgresql-remote ] || return 0
    cmake --build build -j"$(nproc)" --target bench_slownet >/dev/null
    local pgport relay
    pgport=$(cat "$PGDIR/port")
    relay=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    build/bench_slownet "$relay" "$pgport" 250 &
    RELAY_PID=$!
    STORE=(--db "${STORE[1]/:$pgport\//:$relay/}")
}

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -z "$RELAY_PID" ] || kill "$RELAY_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    if [ -n "$PGDIR" ]; then bash scripts/pg.sh stop "$PGDIR" || true; rm -rf "$PGDIR"; fi
    rm -rf "$WORK"
}

k() { "$KG" "$@" --data "$D" "${STORE[@]}"; }

# Starts the nodes (two in two-node mode, on port and port+10); URL is node 1's.
start_nodes() { # port [serve flags...]
    local port=$1; shift
    local n=1 dir=$D
    [ "$MODE" = two-node ] && n=2
    for i in $(seq "$n"); do
        local p=$(( port + (i - 1) * 10 ))
        if [ "$i" -gt 1 ]; then
            dir=$WORK/data$i
            mkdir -p "$dir"
            cp "$D/master.key" "$dir/master.key"
        fi
        "$KG" serve --data "$dir" "${STORE[@]}" --listen "127.0.0.1:$p" \
            --public-url "https://127.0.0.1:$port" --log-level warn "$@" \
            >"$WORK/out$i" 2>"$WORK/log$i" &
        PIDS+=($!)
        PORTS+=("$p")
        for _ in $(seq 100); do curl -sk "https://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.1; done
    done
    URL=https://127.0.0.1:$port
}

# CPU ticks of every node (user + system; user only with "user").
cpu_ticks() {
    local f='{print $14 + $15}'
    [ "${1:-}" = user ] && f='{print $14}'
    local s=0
    for p in "${PIDS[@]}"; do s=$(( s + $(awk "$f" "/proc/$p/stat") )); done
    echo "$s"
}

# CPU ticks of the threads of every node whose name is $1 (MHD-worker, kg-audit: core/thread.h).
thread_ticks() {
    local s=0 p t
    for p in "${PIDS[@]}"; do
        for t in /proc/"$p"/task/*; do
            [ "$(cat "$t/comm")" = "$1" ] && s=$(( s + $(awk '{print $14 + $15}' "$t/stat") ))
        done
    done
    echo "$s"
}

# wrk with the script over every node at once, conns split between them; prints one combined
# "RESULT requests errors p50 p99" line (the slower node's percentiles). With TAG set, several may
# run at once (each its own output files).
wrk_nodes() { # conns script path
    local conns=$1 script=$2 path=$3 n=${#PORTS[@]} i out=$WORK/wrk${TAG:-}_
    local threads=2 wp=()
    [ "$n" -gt 1 ] && threads=1
    for i in $(seq 0 $(( n - 1 ))); do
        wrk -t"$threads" -c$(( conns / n )) -d"${SECS}s" -s "$script" \
            "https://127.0.0.1:${PORTS[$i]}$path" >"$out$i" &
        wp+=($!)
    done
    wait "${wp[@]}"
    cat "$out"[0-9]* | awk '/^RESULT/ {r += $2; e += $3; if ($4 > p) p = $4; if ($5 > q) q = $5}
        END {printf "RESULT %d %d %.1f %.1f\n", r, e, p, q}'
    rm -f "$out"[0-9]*
}

mode_line() {
    case "$MODE" in
    sqlite) echo "store: SQLite (embedded), one node" ;;
    postgresql) echo "store: PostgreSQL $(ls /usr/lib/postgresql | sort -V | tail -1) on this machine, one node" ;;
    postgresql-remote) echo "store: PostgreSQL on this machine behind a relay adding 250 us each way, one node" ;;
    two-node) echo "store: PostgreSQL on this machine, two nodes, load split evenly" ;;
    esac
}
