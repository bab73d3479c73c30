#!/usr/bin/env bash
# serve_api.sh - `tide serve` driven with curl on an ephemeral loopback port, on real IOC lists
# (firehol level 1 with --tlp clear, maltrail's TrickBot trails unmarked = amber) and a STIX
# bundle with TLP 2.0 markings: health without a key; every authentication failure (no key,
# wrong key, bad scheme, Basic with the wrong name, a key revoked while the server runs) is a
# bare 401; a role without the permission is 403; lookups with match semantics (an address in
# a listed CIDR, a subdomain of a listed domain, a defanged URL) under each key's TLP ceiling;
# bad requests, unknown routes, wrong methods, oversized URL / headers / bodies; the OpenAPI
# document against the route table and the routes served; a clean stop on SIGTERM.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA/iocs" ]; then
    [ "${CI:-}" = true ] && { echo "FAIL $DATA/iocs missing (CI=true)"; exit 1; }
    echo "skipped: $DATA/iocs missing"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-serve.XXXXXX)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
. "$SRC/tests/integration/lib/serve_common.bash"
trap 'serve_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
S=$W/s
NETSET=$DATA/iocs/firehol/firehol_level1.netset
TRAILS=$DATA/iocs/maltrail/malware/trickbot.txt
"$TIDE" --store "$S" ingest --tlp clear --source firehol "$NETSET" >/dev/null 2>&1
"$TIDE" --store "$S" ingest "$TRAILS" >/dev/null 2>&1
now=2026-12-01T00:00:00.000Z
cat >"$W/marked.json" <<JSON
{"type":"bundle","id":"bundle--6d0f5f3a-7c1e-4b8e-9c41-0a3b9f1e2d10","objects":[
 {"type":"indicator","spec_version":"2.1","id":"indicator--1b6f4a4e-9a51-4c5e-8d3b-6e2f0c7a9d11","created":"$now","modified":"$now","valid_from":"$now",
  "pattern_type":"stix","pattern":"[domain-name:value = 'green.tide-test.example']","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]},
 {"type":"indicator","spec_version":"2.1","id":"indicator--2c7a5b5f-0b62-4d6f-9e4c-7f3a1d8b0e22","created":"$now","modified":"$now","valid_from":"$now",
  "pattern_type":"stix","pattern":"[domain-name:value = 'red.tide-test.example']","object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]}]}
JSON
"$TIDE" --store "$S" ingest --format stix "$W/marked.json" >/dev/null 2>&1
ADMIN=$(key "$S" admin admin red)
CLEAR=$(key "$S" clear-reader reader clear)
GREEN=$(key "$S" green-reader reader green)
AMBER=$(key "$S" amber-analyst analyst amber)
GONE=$(key "$S" gone reader red)
check "keys: printed once, tide_ + 43 characters" '[[ "$ADMIN" =~ ^tide_[A-Za-z0-9_-]{43}$ ]] && [ "$ADMIN" != "$CLEAR" ]'
check "keys: only the hash is in the store" '! grep -qaF "${ADMIN#tide_}" "$S/tide.db" "$S"/tide.db-wal 2>/dev/null'
"$TIDE" --store "$S" keys list --json >"$W/keys.json"
check "keys list: names, roles, ceilings, no key" 'grep -q "\"amber-analyst\"" "$W/keys.json" && grep -q "\"amber\"" "$W/keys.json" && ! grep -q tide_ "$W/keys.json"'
check "keys add: a name taken is refused" '! "$TIDE" --store "$S" keys add admin --role reader --tlp-max red >/dev/null 2>&1'
check "keys add: a bad role is refused" '! "$TIDE" --store "$S" keys add x --role root --tlp-max red >/dev/null 2>&1'
check "keys add: a bad TLP is refused" '! "$TIDE" --store "$S" keys add x --role reader --tlp-max purple >/dev/null 2>&1'

serve_start "$S"

# health: the one route without a key
check "health: 200 without a key, ready" '[ "$(code "" GET /api/v1/health)" = 200 ] && [ "$(jget "d[\"ready\"]")" = True ]'

# authentication: 401 and nothing else
for a in "" "Bearer" "Bearer tide_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "Bearer ${ADMIN}x" "Token $ADMIN" "Basic $(printf 'nobody:%s' "$ADMIN" | base64 -w0)"; do
    c=$(curl -s -o "$W/body" -w '%{http_code}' ${a:+-H "Authorization: $a"} "$BASE/api/v1/intel/lookup?value=1.2.3.4")
    check "401 for '${a:0:12}...': bare" '[ "$c" = 401 ] && [ "$(cat "$W/body")" = "{\"error\":\"unauthorized\"}" ]'
done
c=$(curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Basic $(printf 'admin:%s' "$ADMIN" | base64 -w0)" "$BASE/api/v1/intel/lookup?value=1.2.3.4")
check "Basic with the key's name and the key: 200" '[ "$c" = 200 ]'
check "OpenAPI needs a key" '[ "$(code "" GET /api/openapi.json)" = 401 ]'
check "revoked key: accepted before" '[ "$(code "$GONE" GET "/api/v1/intel/lookup?value=1.2.3.4")" = 200 ]'
"$TIDE" --store "$S" keys revoke gone 2>/dev/null
# refused from the watcher's next look at the keys table (every 250 ms): no timing asserted
# (tests time nothing), 5 s at most on a loaded machine
for _ in $(seq 100); do [ "$(code "$GONE" GET "/api/v1/intel/lookup?value=1.2.3.4")" = 401 ] && break; sleep 0.05; done
check "revoked key: refused (401) once revoked, while the server runs" '[ "$(code "$GONE" GET "/api/v1/intel/lookup?value=1.2.3.4")" = 401 ]'

# roles
check "403: a reader reads no audit log" '[ "$(code "$GREEN" GET /api/v1/admin/audit)" = 403 ] && grep -q admin "$W/body"'
check "admin reads the audit log" '[ "$(code "$ADMIN" GET /api/v1/admin/audit)" = 200 ]'
check "admin lists keys, never a key" '[ "$(code "$ADMIN" GET /api/v1/admin/keys)" = 200 ] && grep -q green-reader "$W/body" && ! grep -q tide_ "$W/body"'

# lookups with match semantics, under the ceiling
CIDR=$(grep -v '^#' "$NETSET" | grep -E '^[0-9.]+/2[0-4]$' | head -1)
IN=$(python3 -c "import ipaddress,sys; n=ipaddress.ip_network(sys.argv[1]); print(n.network_address+5)" "$CIDR")
check "lookup: $IN is in the listed $CIDR (clear key)" '[ "$(code "$CLEAR" GET "/api/v1/intel/lookup?value=$IN")" = 200 ] && [ "$(jget "\" \".join(i[\"matched\"][\"value\"] for i in d[\"indicators\"] if i[\"matched\"][\"covers\"])")" = "$CIDR" ]'
DOM=$(grep -v '^#' "$TRAILS" | grep -E '^[a-z0-9-]+\.[a-z]{2,}$' | grep -v onion | head -1)
check "lookup: a subdomain of the listed $DOM (amber key)" '[ "$(code "$AMBER" GET "/api/v1/intel/lookup?value=www.$DOM")" = 200 ] && [ "$(jget "d[\"indicators\"][0][\"matched\"][\"value\"]")" = "$DOM" ] && [ "$(jget "d[\"indicators\"][0][\"tlp\"]")" = amber ]'
check "lookup: unmarked intel is amber: a green key sees nothing" '[ "$(code "$GREEN" GET "/api/v1/intel/lookup?value=www.$DOM")" = 200 ] && [ "$(jget "len(d[\"indicators\"])")" = 0 ]'
check "lookup: defanged (www[.]$DOM)" '[ "$(code "$AMBER" GET "/api/v1/intel/lookup?value=www%5B.%5D$DOM")" = 200 ] && [ "$(jget "len(d[\"indicators\"])")" -ge 1 ]'
check "lookup: TLP:GREEN marking seen by a green key" '[ "$(code "$GREEN" GET "/api/v1/intel/lookup?value=green.tide-test.example")" = 200 ] && grep -q indicator--1b6f4a4e "$W/body"'
check "lookup: TLP:RED hidden from an amber key" '[ "$(code "$AMBER" GET "/api/v1/intel/lookup?value=red.tide-test.example")" = 200 ] && ! grep -q indicator--2c7a5b5f "$W/body"'
check "lookup: TLP:RED seen by a red key" '[ "$(code "$ADMIN" GET "/api/v1/intel/lookup?value=red.tide-test.example")" = 200 ] && grep -q indicator--2c7a5b5f "$W/body"'
check "lookup: no value is 400" '[ "$(code "$ADMIN" GET /api/v1/intel/lookup)" = 400 ]'
check "lookup: no kind of observable is 400 with the reason" '[ "$(code "$ADMIN" GET "/api/v1/intel/lookup?value=%25%25%25")" = 400 ] && grep -q "no known kind" "$W/body"'

# routes, methods, limits
check "unknown route: 404 no such route" '[ "$(code "$ADMIN" GET /api/v1/nope)" = 404 ] && grep -q "no such route" "$W/body"'
check "unknown route without a key: 404 too" '[ "$(code "" GET /nope)" = 404 ]'
c=$(curl -s -D "$W/h" -o "$W/body" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $ADMIN" "$BASE/api/v1/intel/lookup")
check "wrong method: 405 with Allow" '[ "$c" = 405 ] && grep -qi "^allow: GET" "$W/h"'
check "unknown method: 501" '[ "$(code "$ADMIN" BREW /api/v1/health)" = 501 ]'
LONG=$(head -c 20000 /dev/zero | tr '\0' a)
c=$(code "$ADMIN" GET "/api/v1/intel/lookup?value=$LONG")
check "URL over 16 KiB: refused ($c)" '[ "$c" = 414 ] || [ "$c" = 431 ]'
c=$(code "$ADMIN" GET /api/v1/health -H "X-Big: $LONG")
check "headers over 16 KiB: refused ($c)" '[ "$c" = 431 ]'
c=$(code "$ADMIN" GET "/api/v1/intel/lookup?value=1.2.3.4" --data-binary @"$NETSET" -X GET)
check "a body where none is taken: refused ($c)" '[ "$c" = 400 ] || [ "$c" = 413 ]'

# the OpenAPI document: the route table, the document and the server agree
check "OpenAPI: served, 3.1" '[ "$(code "$ADMIN" GET /api/openapi.json)" = 200 ] && [ "$(jget "d[\"openapi\"]")" = 3.1.0 ] && cp "$W/body" "$W/openapi.json"'
python3 - "$SRC/server/routes.c" "$W/openapi.json" >"$W/routes.diff" <<'PY'
import json, re, sys
src = open(sys.argv[1]).read() + open(sys.argv[1].replace("routes.c", "taxii.c")).read()
table = set(re.findall(r'\{ "(GET|POST|PUT|PATCH|DELETE)", "(/(?:api|taxii2)/[^"]*)"', src))
doc = json.load(open(sys.argv[2]))
documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops if m in ("get", "post", "put", "patch", "delete")}
for x in sorted(table - documented): print("not documented:", *x)
for x in sorted(documented - table): print("documented, not served:", *x)
PY
check "OpenAPI: every route of the table documented, nothing else ($(wc -l <"$W/routes.diff") differences)" '[ ! -s "$W/routes.diff" ] && [ $(grep -c "{ \"" "$SRC/server/routes.c") -ge 3 ]'
cat "$W/routes.diff"
python3 - "$W/openapi.json" >"$W/ops.txt" <<'PY'
import json, sys
for p, ops in json.load(open(sys.argv[1]))["paths"].items():
    for m in ops:
        print(m.upper(), p.replace("{id}", "x--0").replace("{host}", "h").replace("{format}", "txt").replace("{name}", "n"))
PY
bad=""
while read -r m p; do
    c=$(code "$ADMIN" "$m" "$p" -H 'Content-Type: application/json' ${m:+$([ "$m" = GET ] || echo --data-binary '{}')} --max-time 2)
    if [ "$c" = 405 ] || { [ "$c" = 404 ] && grep -q "no such route" "$W/body"; }; then bad="$bad $m $p ($c)"; fi
done <"$W/ops.txt"
check "OpenAPI: every documented operation is served:$bad" '[ -z "$bad" ] && [ -s "$W/ops.txt" ]'

# clean stop
serve_stop
check "SIGTERM: exit 0, stopped" '[ "$SERVE_RC" = 0 ] && grep -q "stopped" "$W/serve.log"'
check "the audit log holds the writes only" '"$TIDE" --store "$S" keys audit >"$W/audit.json" && grep -q "POST /api/v1/intel" "$W/audit.json" && ! grep -q "\"GET " "$W/audit.json"'

# TLS: a self-signed certificate made here
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/key.pem" -out "$W/cert.pem" -days 2 \
        -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
    serve_start "$S" --tls-cert "$W/cert.pem" --tls-key "$W/key.pem"
    check "TLS: listening on https" '[[ "$BASE" == https://* ]]'
    c=$(curl -s -o "$W/body" -w '%{http_code}' --cacert "$W/cert.pem" -H "Authorization: Bearer $ADMIN" "$BASE/api/v1/intel/lookup?value=red.tide-test.example")
    check "TLS: a lookup over HTTPS, the certificate verified" '[ "$c" = 200 ] && grep -q indicator--2c7a5b5f "$W/body"'
    c=$(curl -s -o /dev/null -w '%{http_code}' "${BASE/https/http}/api/v1/health")
    check "TLS: no plain HTTP on the TLS port" '[ "$c" != 200 ]'
    serve_stop
    check "TLS: SIGTERM, exit 0" '[ "$SERVE_RC" = 0 ]'
fi
"$TIDE" --store "$S" serve --listen 127.0.0.1:0 --tls-cert "$W/nope.pem" --tls-key "$W/nope.pem" 2>"$W/err" </dev/null
rc=$?
check "a certificate that cannot be read: exit $rc, named" '[ "$rc" -ne 0 ] && grep -q "nope.pem" "$W/err"'
"$TIDE" --store "$S" serve --listen 127.0.0.1:99999 2>"$W/err"
rc=$?
check "a bad --listen: usage error ($rc), the reason" '[ "$rc" = 2 ] && grep -q "bad port" "$W/err"'
"$TIDE" --store "$S" serve --tls-cert "$W/cert.pem" 2>"$W/err"
rc=$?
check "--tls-cert without --tls-key: usage error ($rc)" '[ "$rc" = 2 ]'

echo "serve_api: $pass passed, $fail failed"
[ "$fail" = 0 ]
