# SPDX-License-Identifier: Apache-2.0
# Turns the ordered list of migration files into a C array of strings:
#   const char *const kg_migrations_NAME[]; const int kg_migrations_NAME_count;
# Migration N is the N-th file in name order (001_init.sql, 002_...).
separate_arguments(FILES)
set(body "/* generated from src/store/migrations/${NAME}; do not edit */\n")
string(APPEND body "const char *const kg_migrations_${NAME}[] = {\n")
set(count 0)
foreach(f ${FILES})
  file(READ ${f} sql)
  string(REPLACE "\\" "\\\\" sql "${sql}")
  string(REPLACE "\"" "\\\"" sql "${sql}")
  string(REPLACE "\n" "\\n\"\n\"" sql "${sql}")
  string(APPEND body "\"${sql}\",\n")
  math(EXPR count "${count} + 1")
endforeach()
string(APPEND body "};\nconst int kg_migrations_${NAME}_count = ${count};\n")
file(WRITE ${OUT} "${body}")
