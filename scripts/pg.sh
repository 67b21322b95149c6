#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A throwaway PostgreSQL cluster for tests and benchmarks, in a directory of its own, run as a
# non-root user (PostgreSQL refuses root; as root we use Debian's "postgres" account).
#   pg.sh start DIR [PORT]   initdb if needed, start on 127.0.0.1:PORT (a free one by default),
#                            print the superuser URL on stdout
#   pg.sh stop DIR           fast shutdown
#   pg.sh kill DIR           SIGKILL the postmaster (an outage without a clean shutdown)
#   pg.sh createdb DIR NAME  a new empty database; prints its URL
set -euo pipefail
cmd=${1:?usage: pg.sh start|stop|kill|createdb DIR ...}
dir=${2:?data directory}
bin=/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -1)/bin
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
url() { echo "postgresql://postgres@127.0.0.1:$(cat "$dir/port")/$1"; }
case $cmd in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --locale=C -E UTF8 >/dev/null
    fi
    if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        url postgres # already running (a run that did not stop it)
        exit 0
    fi
    port=${3:-$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
    echo "$port" | as_owner tee "$dir/port" >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=on" >/dev/null
    url postgres
    ;;
stop) as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
kill) kill -9 "$(head -1 "$dir/data/postmaster.pid")" ;;
createdb)
    as_owner "$bin/psql" -q -h 127.0.0.1 -p "$(cat "$dir/port")" -U postgres -d postgres \
        -c "CREATE DATABASE \"${3:?name}\"" >/dev/null
    url "$3"
    ;;
*) echo "usage: pg.sh start|stop|kill|createdb DIR ..." >&2; exit 2 ;;
esac
