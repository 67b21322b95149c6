#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Source rules that a compiler cannot check (STYLE.md): each library header only in its module,
# no banned functions, and an SPDX line opening every source file.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
only_in() { # header dir
    local hits
    hits=$(grep -rln "#include <$1>" src | grep -v "^src/$2" || true)
    if [ -n "$hits" ]; then echo "lint: <$1> outside src/$2: $hits"; fail=1; fi
}
only_in microhttpd.h http/server.c
only_in jansson.h json/
only_in sqlite3.h store/sqlite/
only_in libpq-fe.h store/pg/
banned=$(grep -rnE '\b(strcpy|strcat|sprintf|strtok|atoi|sscanf|rand|system)\s*\(' src \
    --include='*.c' --include='*.h' | grep -v 'snprintf\|vsnprintf' || true)
if [ -n "$banned" ]; then echo "lint: banned functions:"; echo "$banned"; fail=1; fi
for f in $(git ls-files 'src/*.c' 'src/*.h' 'tests/unit/*.c' 'fuzz/*.c'); do
    head -1 "$f" | grep -q "SPDX-License-Identifier" || { echo "lint: no SPDX line: $f"; fail=1; }
done
if command -v clang-format >/dev/null; then
    unformatted=$(git ls-files '*.c' '*.h' | xargs clang-format --dry-run 2>&1 | grep -c "warning:" || true)
    if [ "$unformatted" != "0" ]; then
        echo "lint: $unformatted places differ from .clang-format (run: git ls-files '*.c' '*.h' | xargs clang-format -i)"
        fail=1
    fi
fi
# SQL binding formats against their arguments (varargs the compiler cannot check)
/usr/bin/python3 scripts/check_binds.py || fail=1
[ $fail -eq 0 ] && echo "lint: ok"
exit $fail
