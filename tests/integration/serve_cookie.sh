#!/usr/bin/env bash
# serve_cookie.sh - the web UI's session cookie as `tide serve` reads it from the Cookie header
# (server/params.c tide__parse_cookie, fuzzed by fuzz/fuzz_serve.c): the session's cookie among
# others authenticates; a cookie whose name only starts with the session's, one without a value
# or with one too long, empty pairs, a header of semicolons: 401, and the server serves on.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-cookie.XXXXXX)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
. "$SRC/tests/integration/lib/serve_common.bash"
trap 'serve_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
S=$W/s
ANALYST=$(key "$S" ana analyst amber)
serve_start "$S" --no-schedule
c=$(curl -s -D "$W/h" -o "$W/s.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $ANALYST" "$BASE/api/v1/session")
ID=$(grep -i '^set-cookie: tide_session=' "$W/h" | sed 's/^[^:]*: tide_session=//; s/;.*//; s/\r$//')
check "signed in: a session id" '[ "$c" = 201 ] && [ ${#ID} -ge 20 ]'
as() { curl -s -o "$W/body" -w '%{http_code}' -H "Cookie: $1" "$BASE/api/v1/session"; }
check "the session's cookie alone: 200" '[ "$(as "tide_session=$ID")" = 200 ] && [ "$(jget "d[\"name\"]")" = ana ]'
check "among other cookies, and blanks: 200" '[ "$(as "theme=dark;  tide_session=$ID; lang=en")" = 200 ]'
check "a cookie whose name starts with the session's: 401" '[ "$(as "tide_sessionx=$ID")" = 401 ]'
check "a name without '=': 401" '[ "$(as "tide_session")" = 401 ]'
check "an empty value: 401" '[ "$(as "tide_session=")" = 401 ]'
check "semicolons only: 401" '[ "$(as ";;;; ;")" = 401 ]'
check "a value too long (4 KiB): 401" '[ "$(as "tide_session=$(head -c 4096 /dev/zero | tr "\0" a)")" = 401 ]'
check "the session id with a suffix: 401" '[ "$(as "tide_session=${ID}x")" = 401 ]'
check "the server serves on" '[ "$(code "" GET /api/v1/health)" = 200 ] && [ "$(as "tide_session=$ID")" = 200 ]'
serve_stop
check "SIGTERM: exit 0" '[ "$SERVE_RC" = 0 ]'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
