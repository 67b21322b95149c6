#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Lint: every SQL binding call in src/store/ passes exactly the arguments its format string
names (s and i one each, b two), since C cannot check a varargs format of our own."""
import glob
import re
import sys

CALLS = r"\b(kg_sql_exec1|kg_sql_exec1_some|kg_sql_exec|kg_sql_get1|kg_sql_get|kg_sql_collect|" \
        r"kg_sql_list|kg_sql_join1)\s*\("
bad = 0
for path in sorted(glob.glob("src/store/**/*.c", recursive=True)):
    src = open(path).read()
    for m in re.finditer(CALLS, src):
        i = j = m.end()
        depth = 1
        while depth:
            depth += {"(": 1, ")": -1}.get(src[j], 0)
            j += 1
        args, cur, d, quoted = [], "", 0, False
        for ch in src[i:j - 1]:
            if ch == '"':
                quoted = not quoted
            if not quoted:
                d += ch in "([{"
                d -= ch in ")]}"
            if ch == "," and d == 0 and not quoted:
                args.append(cur.strip())
                cur = ""
            else:
                cur += ch
        args.append(cur.strip())
        fmts = [k for k, a in enumerate(args) if re.fullmatch(r'("[sib]*"\s*)+', a)]
        if not fmts:
            continue
        k = fmts[-1]
        fmt = "".join(re.findall(r'"([sib]*)"', args[k]))
        need = sum(2 if c == "b" else 1 for c in fmt)
        if need != len(args) - k - 1:
            line = src[:m.start()].count("\n") + 1
            print(f"{path}:{line}: {m.group(1)} format \"{fmt}\" wants {need} arguments, "
                  f"has {len(args) - k - 1}")
            bad += 1
sys.exit(1 if bad else 0)
