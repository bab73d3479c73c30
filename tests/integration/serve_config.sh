#!/usr/bin/env bash
# serve_config.sh - `tide serve --config FILE` (docs/taxii.md): the file's keys are serve's long
# options (the command line wins), its "taxii" member the published collections. Bad files are
# refused naming the file and the key; a configured collection's roles and tlp_max hold on real
# data (medallion's recorded collection posted to an inbox, whose objects carry TLP:GREEN and
# none).
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
MED=$DATA/taxii21/derived/envelope_objects_91a7b528-80eb-42ed-a74d-c6fbd5a26116_all-versions.json
if [ ! -f "$MED" ]; then
    [ "${CI:-}" = true ] && { echo "FAIL $DATA missing (CI=true)"; exit 1; }
    echo "skipped: $DATA missing"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-serve-config.XXXXXX)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
. "$SRC/tests/integration/lib/serve_common.bash"
trap 'serve_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
S=$W/s; Q="'"
TT='application/taxii+json;version=2.1'
PEER=$(key "$S" peer peer amber)
READER=$(key "$S" reader reader amber)
ADMIN=$(key "$S" admin admin red)

# refused files: exit 2, the file and the key named
bad() { # NAME JSON EXPECTED-TEXT
    printf '%s' "$2" >"$W/$1.json"
    "$TIDE" --store "$S" serve --config "$W/$1.json" >/dev/null 2>"$W/$1.err"
    local rc=$?
    [ $rc = 2 ] && grep -qF "$1.json" "$W/$1.err" && grep -qF -- "$3" "$W/$1.err"
}
check "an unknown key: refused, naming the file and the key" 'bad unknown "{\"listen\": \"127.0.0.1:0\", \"lisen\": 1}" "key \"lisen\": not an option of tide serve"'
check "a bad value: refused, naming the key" 'bad badval "{\"max-body\": \"lots\"}" "key \"max-body\": a bad value"'
check "a bad type: refused" 'bad badtype "{\"timeout\": [1]}" "key \"timeout\": want a string, a number or true"'
check "not JSON: refused with the line and column" 'bad notjson "{\"listen\": " "line 1, column"'
check "config inside config: refused" 'bad nested "{\"config\": \"x.json\"}" "key \"config\": not an option"'
check "taxii: a collection id that is not a UUID" 'bad uuid "{\"taxii\": {\"title\": \"t\", \"api_roots\": {\"r\": {\"title\": \"r\", \"collections\": [{\"id\": \"abc\", \"title\": \"c\"}]}}}}" "taxii.api_roots.r.collections[0].id: ${Q}abc${Q} is not a UUID"'
check "taxii: an unknown kind" 'bad kind "{\"taxii\": {\"title\": \"t\", \"api_roots\": {\"r\": {\"title\": \"r\", \"collections\": [{\"id\": \"11111111-2222-3333-4444-555555555555\", \"title\": \"c\", \"kind\": \"feed\"}]}}}}" "collections[0].kind"'
check "taxii: an unknown role" 'bad role "{\"taxii\": {\"title\": \"t\", \"api_roots\": {\"r\": {\"title\": \"r\", \"collections\": [{\"id\": \"11111111-2222-3333-4444-555555555555\", \"title\": \"c\", \"can_read\": [\"boss\"]}]}}}}" "collections[0].can_read[0]: not a role"'
check "taxii: an unknown member" 'bad member "{\"taxii\": {\"title\": \"t\", \"api_roots\": {}, \"colour\": 1}}" "unknown member \"colour\""'
check "taxii: a bad tlp_max" 'bad tlp "{\"taxii\": {\"title\": \"t\", \"api_roots\": {\"r\": {\"title\": \"r\", \"collections\": [{\"id\": \"11111111-2222-3333-4444-555555555555\", \"title\": \"c\", \"tlp_max\": \"pink\"}]}}}}" "collections[0].tlp_max: not a TLP level"'
check "taxii: a duplicate collection id" 'bad dup "{\"taxii\": {\"title\": \"t\", \"api_roots\": {\"r\": {\"title\": \"r\", \"collections\": [{\"id\": \"11111111-2222-3333-4444-555555555555\", \"title\": \"c\"}, {\"id\": \"11111111-2222-3333-4444-555555555555\", \"title\": \"d\"}]}}}}" "is the id of collections[0] too"'
check "taxii: can_write on an intel collection" 'bad write "{\"taxii\": {\"title\": \"t\", \"api_roots\": {\"r\": {\"title\": \"r\", \"collections\": [{\"id\": \"11111111-2222-3333-4444-555555555555\", \"title\": \"c\", \"can_write\": [\"peer\"]}]}}}}" "only an inbox collection takes objects"'

G=11111111-2222-3333-4444-555555555555
IN=22222222-3333-4444-5555-666666666666
cat >"$W/good.json" <<EOF
{
  "max-body": 30000,
  "timeout": 20,
  "taxii": {
    "title": "acme sharing",
    "api_roots": {
      "share": {
        "title": "Share",
        "collections": [
          {"id": "$G", "title": "green intel", "kind": "intel", "tlp_max": "green",
           "can_read": ["peer", "admin"]},
          {"id": "$IN", "title": "partners", "kind": "inbox", "sources": ["partners"],
           "can_write": ["peer"]}
        ]
      }
    }
  }
}
EOF
tx() { # CREDS METHOD PATH [curl args]
    local c=$1 m=$2 p=$3; shift 3
    curl -s -o "$W/body" -w '%{http_code}' -X "$m" -H "Accept: $TT" -u "$c" "$@" "$BASE$p"
}
jt() { python3 -c "import json,sys; d=json.load(open('$W/body')); print(($1))" 2>/dev/null; }
serve_start "$S" --config "$W/good.json"
check "the file's max-body is the API root's max_content_length" '[ "$(tx "peer:$PEER" GET /taxii2/share/)" = 200 ] && [ "$(jt "d[\"max_content_length\"]")" = 30000 ]'
check "discovery: the configured title and root; the default root is gone" '[ "$(tx "peer:$PEER" GET /taxii2/)" = 200 ] && [ "$(jt "d[\"title\"], d[\"api_roots\"]")" = "(${Q}acme sharing${Q}, [${Q}$BASE/taxii2/share/${Q}])" ] &&
  [ "$(tx "peer:$PEER" GET /taxii2/tide/)" = 404 ]'
check "collections: can_read / can_write by role" '[ "$(tx "reader:$READER" GET /taxii2/share/collections/)" = 200 ] && [ "$(jt "[(c[\"can_read\"], c[\"can_write\"]) for c in d[\"collections\"]]")" = "[(False, False), (False, False)]" ] &&
  [ "$(tx "peer:$PEER" GET /taxii2/share/collections/)" = 200 ] && [ "$(jt "[(c[\"can_read\"], c[\"can_write\"]) for c in d[\"collections\"]]")" = "[(True, False), (False, True)]" ]'
check "a reader may not read the green collection (403)" '[ "$(tx "reader:$READER" GET /taxii2/share/collections/$G/objects/)" = 403 ]'
check "an admin may not post to the partners inbox (can_write: peer only, 403), a peer may" '[ "$(tx "admin:$ADMIN" POST /taxii2/share/collections/$IN/objects/ -H "Content-Type: $TT" --data-binary @"$MED")" = 403 ] &&
  [ "$(tx "peer:$PEER" POST /taxii2/share/collections/$IN/objects/ -H "Content-Type: $TT" --data-binary @"$MED")" = 202 ] && [ "$(jt "d[\"success_count\"]")" = 8 ]'
check "the posted objects are stored as the inbox's source (partners)" '"$TIDE" --store "$S" search --source partners --json 2>/dev/null | grep -q "indicator--6770298f"'
check "tlp_max green: an amber admin key sees only the TLP:GREEN marking-definition of the unmarked collection" '[ "$(tx "admin:$ADMIN" GET /taxii2/share/collections/$G/objects/)" = 200 ] && [ "$(jt "[o[\"id\"] for o in d[\"objects\"]]")" = "[${Q}marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da${Q}]" ]'
serve_stop
serve_start "$S" --config "$W/good.json" --max-body 40000
check "the command line wins over the file (--max-body 40000)" '[ "$(tx "peer:$PEER" GET /taxii2/share/)" = 200 ] && [ "$(jt "d[\"max_content_length\"]")" = 40000 ]'
serve_stop
check "the server stops cleanly" '[ "$SERVE_RC" = 0 ]'
echo "serve_config: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
