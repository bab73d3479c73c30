#!/usr/bin/env bash
# serve_ui_session.sh - the web UI's side of `tide serve` (server/ui.c), with curl: the bundle
# served at / with its CSP and ETag (304 on If-None-Match), nothing outside the bundle served,
# sign-in (POST /api/v1/session with a key) answering a cookie HttpOnly + SameSite=Strict and a
# CSRF token, reads with the cookie alone, writes refused (403) without the token or with a
# wrong one and accepted with it, a wrong key signs nothing in, revoking the key ends its
# sessions, sessions bounded in number (--sessions: the least recently used goes) and in time
# (--session-idle), sign-out; the Secure flag under TLS.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-uisess.XXXXXX)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
. "$SRC/tests/integration/lib/serve_common.bash"
trap 'serve_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
S=$W/s
mkdir -p "$W/ui"
printf '<!doctype html><title>t</title><script type="module" src="/app.js"></script>\n' >"$W/ui/index.html"
printf 'console.log("tide");\n' >"$W/ui/app.js"
printf 'secret\n' >"$W/outside.txt"
ln -s "$W/outside.txt" "$W/ui/link.txt"
"$TIDE" --store "$S" keys add seed --role reader --tlp-max clear --json >/dev/null
ANALYST=$(key "$S" ana analyst amber)
READER=$(key "$S" rea reader green)
serve_start "$S" --ui "$W/ui" --sessions 3

# the bundle
c=$(curl -s -D "$W/h" -o "$W/body" -w '%{http_code}' "$BASE/")
check "/: index.html without a key, text/html" '[ "$c" = 200 ] && grep -q "app.js" "$W/body" && grep -qi "^content-type: text/html" "$W/h"'
check "/: a CSP of its own scripts, no framing" 'grep -qi "^content-security-policy: default-src .self.; script-src .self.;" "$W/h" && grep -qi "^x-frame-options: DENY" "$W/h"'
etag=$(grep -i '^etag:' "$W/h" | sed 's/^[^:]*: //; s/\r$//')
c=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$BASE/")
check "/: 304 on its ETag ($etag)" '[ -n "$etag" ] && [ "$c" = 304 ]'
c=$(curl -s -D "$W/h" -o "$W/body" -w '%{http_code}' "$BASE/app.js")
check "/app.js: javascript" '[ "$c" = 200 ] && grep -qi "^content-type: text/javascript" "$W/h"'
for p in /link.txt /../outside.txt /%2e%2e/outside.txt /nope.js "/app.js/x"; do
    c=$(curl -s --path-as-is -o "$W/body" -w '%{http_code}' "$BASE$p")
    check "$p: 404 (only the bundle's regular files are served)" '[ "$c" = 404 ] && ! grep -q secret "$W/body"'
done
check "POST /: 405" '[ "$(curl -s -o /dev/null -w "%{http_code}" -X POST "$BASE/")" = 405 ]'

# sign in
signin() { curl -s -D "$W/h$2" -o "$W/s$2.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" "$BASE/api/v1/session"; }
cookie_of() { grep -i '^set-cookie: tide_session=' "$W/h$1" | sed 's/^[^:]*: //; s/;.*//; s/\r$//'; }
csrf_of() { python3 -c "import json; print(json.load(open('$W/s$1.json'))['csrf'])"; }
c=$(signin "$ANALYST" 1)
check "sign in: 201, the key's role and ceiling" '[ "$c" = 201 ] && grep -q "\"role\":\"analyst\"" "$W/s1.json" && grep -q "\"tlp_max\":\"amber\"" "$W/s1.json"'
check "sign in: cookie HttpOnly, SameSite=Strict, not Secure over plain HTTP" 'grep -i "^set-cookie: tide_session=" "$W/h1" | grep -q "HttpOnly" && grep -i "^set-cookie:" "$W/h1" | grep -q "SameSite=Strict" && ! grep -i "^set-cookie:" "$W/h1" | grep -q Secure'
check "sign in: the answer holds no key" '! grep -q "$ANALYST" "$W/s1.json" "$W/h1"'
CK=$(cookie_of 1); TOK=$(csrf_of 1)
check "a CSRF token of 43 characters, not the session id" '[ ${#TOK} = 43 ] && [ "tide_session=$TOK" != "$CK" ]'
check "sign in with a wrong key: 401, no cookie" '[ "$(signin tide_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 0)" = 401 ] && ! grep -qi "^set-cookie" "$W/h0"'
check "sign in with a cookie and no key: 400" '[ "$(curl -s -o /dev/null -w "%{http_code}" -X POST -H "Cookie: $CK" -H "X-CSRF-Token: $TOK" "$BASE/api/v1/session")" = 400 ]'

# reads with the cookie; writes need the token
c=$(curl -s -o "$W/body" -w '%{http_code}' -H "Cookie: $CK" "$BASE/api/v1/session")
check "GET /api/v1/session with the cookie: the key and the session's token" '[ "$c" = 200 ] && [ "$(jget "d[\"csrf\"]")" = "$TOK" ] && [ "$(jget "d[\"name\"]")" = ana ]'
check "a read with the cookie alone: 200" '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Cookie: $CK" "$BASE/api/v1/cases")" = 200 ]'
check "a forged cookie: 401" '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Cookie: tide_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "$BASE/api/v1/cases")" = 401 ]'
w() { curl -s -o "$W/body" -w '%{http_code}' -X POST -H "Cookie: $CK" -H 'Content-Type: application/json' "$@" --data-binary '{"host":"10.0.0.1","indicator":"evil.example"}' "$BASE/api/v1/cases"; }
check "a write with the cookie, no CSRF token: 403" '[ "$(w)" = 403 ] && grep -q CSRF "$W/body"'
check "a write with a wrong CSRF token: 403" '[ "$(w -H "X-CSRF-Token: ${TOK%?}x")" = 403 ]'
check "a write with the token of another session: 403" '[ "$(signin "$ANALYST" 2)" = 201 ] && [ "$(w -H "X-CSRF-Token: $(csrf_of 2)")" = 403 ]'
c=$(w -H "X-CSRF-Token: $TOK")
check "a write with the cookie and its token reaches the route (404: no such sighting, not 401 / 403)" '[ "$c" = 404 ] || [ "$c" = 400 ]'
"$TIDE" --store "$S" keys audit >"$W/audit.json" 2>/dev/null
check "the audit log names the session's key for sign-ins" 'grep -q "POST /api/v1/session" "$W/audit.json" && grep -q "\"ana\"" "$W/audit.json"'

# the reader's session: its role applies
c=$(signin "$READER" 3); RCK=$(cookie_of 3); RTOK=$(csrf_of 3)
c=$(curl -s -o "$W/body" -w '%{http_code}' -X POST -H "Cookie: $RCK" -H "X-CSRF-Token: $RTOK" -H 'Content-Type: application/json' --data-binary '{"sighting":1}' "$BASE/api/v1/cases")
check "a reader's session: a case write is 403 (its role)" '[ "$c" = 403 ] && grep -q "cases:write" "$W/body"'
check "a reader's session: metrics 403" '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Cookie: $RCK" "$BASE/api/v1/metrics")" = 403 ]'

# sessions bounded in number: a 4th sign-in (cap 3) drops the least recently used
curl -s -o /dev/null -H "Cookie: $CK" "$BASE/api/v1/session"; curl -s -o /dev/null -H "Cookie: $RCK" "$BASE/api/v1/session"
signin "$ANALYST" 4 >/dev/null; CK4=$(cookie_of 4)
check "--sessions 3: the 4th sign-in dropped the least recently used (session 2)" '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Cookie: $(cookie_of 2)" "$BASE/api/v1/session")" = 401 ] && [ "$(curl -s -o /dev/null -w "%{http_code}" -H "Cookie: $CK" "$BASE/api/v1/session")" = 200 ]'

# sign out
c=$(curl -s -D "$W/h5" -o "$W/body" -w '%{http_code}' -X DELETE -H "Cookie: $CK4" -H "X-CSRF-Token: $(csrf_of 4)" "$BASE/api/v1/session")
check "sign out: 200, the cookie cleared" '[ "$c" = 200 ] && [ "$(jget "d[\"signed_out\"]")" = True ] && grep -i "^set-cookie: tide_session=;" "$W/h5" | grep -q "Max-Age=0"'
check "after sign-out the cookie is refused: 401" '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Cookie: $CK4" "$BASE/api/v1/cases")" = 401 ]'
check "sign out without the CSRF token: 403" '[ "$(curl -s -o /dev/null -w "%{http_code}" -X DELETE -H "Cookie: $CK" "$BASE/api/v1/session")" = 403 ]'

# revoking the key ends its sessions
"$TIDE" --store "$S" keys revoke rea >/dev/null
# refused from the watcher's next look at the keys table (every 250 ms, as serve_api.sh):
# no timing asserted, 5 s at most on a loaded machine
for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w "%{http_code}" -H "Cookie: $RCK" "$BASE/api/v1/cases")" = 401 ] && break; sleep 0.05; done
check "a revoked key's session: 401" '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Cookie: $RCK" "$BASE/api/v1/cases")" = 401 ]'

serve_stop
check "SIGTERM: exit 0" '[ "$SERVE_RC" = 0 ]'

# idle: --session-idle 1
serve_start "$S" --ui "$W/ui" --session-idle 1
signin "$ANALYST" 7 >/dev/null
check "--session-idle 1: a session in use answers" '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Cookie: $(cookie_of 7)" "$BASE/api/v1/session")" = 200 ]'
sleep 2.5
check "--session-idle 1: a session idle 2.5 s is gone" '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Cookie: $(cookie_of 7)" "$BASE/api/v1/session")" = 401 ]'
serve_stop

# TLS: the cookie is Secure
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/k.pem" -out "$W/c.pem" -days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1
    serve_start "$S" --ui "$W/ui" --tls-cert "$W/c.pem" --tls-key "$W/k.pem"
    c=$(curl -sk -D "$W/h6" -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $ANALYST" "$BASE/api/v1/session")
    check "under TLS the cookie is Secure" '[ "$c" = 201 ] && grep -i "^set-cookie: tide_session=" "$W/h6" | grep -q "; Secure"'
    serve_stop
fi
echo "serve_ui_session: $pass passed, $fail failed"
[ "$fail" = 0 ]
