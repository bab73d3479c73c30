#!/usr/bin/env bash
# feeds_taxii.sh - tide feeds against a TAXII 2.1 server that replays the recorded data of the
# reference server (medallion, ../shared/data/taxii21) as medallion serves it
# (tests/taxii_replay.py, on an ephemeral loopback port):
#  - discovery -> default API root -> collection -> objects page by page (limit, next, more),
#    Accept with version=2.1 and HTTP Basic on every request, URLs ending in '/';
#  - every object stored with the feed's name as source and its --tlp;
#  - a second pull asks added_after = the first's X-TAXII-Date-Added-Last and gets only what
#    was added since; a third gets nothing;
#  - pulled indicators are hunted back through the history (a retro-sighting);
#  - bad credentials, an unreachable peer, a wrong Content-Type, bad JSON, endless paging
#    (new tokens, the same token, more without next) and a slow peer exit non-zero with the
#    feed, the URL and the reason, and keep what earlier pulls stored and the resume point;
#  - 500 then OK is retried (Retry-After honoured); an API root given directly; can_read;
#  - a proxy from http_proxy; HTTPS with --ca-bundle; Authorization: Bearer;
#  - secrets never listed, the store's database mode 0600; the replay server answers 406 and
#    401 (HTML) as medallion does.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA/taxii21" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { [ "${CI:-}" = true ] && exit 1; echo "skipped: no python3"; exit 77; }
command -v curl >/dev/null || { [ "${CI:-}" = true ] && exit 1; echo "skipped: no curl"; exit 77; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
W=$(mktemp -d /tmp/tide-feeds-taxii.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$W"; }
trap cleanup EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
cd "$W"
COLL=91a7b528-80eb-42ed-a74d-c6fbd5a26116
MED=$DATA/taxii21/medallion/default_data.json

# serve ARGS...: start a replay server; PORT gets its port
serve() {
  local pf=$W/port.$RANDOM
  python3 "$SRC/tests/taxii_replay.py" --data "$MED" --port-file "$pf" "$@" >>"$W/server.err" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 300); do [ -s "$pf" ] && break; sleep 0.1; done
  PORT=$(cat "$pf")
}
serve --user alice --password 's3cret pw' --control "$W/ctl.json" --log "$W/log.jsonl"
P=$PORT
check "the replay server listens" '[ -n "$P" ]'
B=http://127.0.0.1:$P

# the replay server answers as medallion does
code() { curl -s -o "$W/body" -w '%{http_code} %{content_type}' "$@"; }
check "replay: 406 to an Accept without version" \
  '[ "$(code -u "alice:s3cret pw" -H "Accept: application/taxii+json" $B/taxii2/)" = "406 application/taxii+json;version=2.1" ]'
check "replay: 401 with an HTML body to bad credentials" \
  '[ "$(code -u alice:nope -H "Accept: application/taxii+json;version=2.1" $B/taxii2/)" = "401 text/html; charset=utf-8" ] && grep -q "<h1>Unauthorized" "$W/body"'
check "replay: 5 objects, the newest version of each, First / Last as medallion's tests say" \
  '[ "$(curl -s -D "$W/h" -u "alice:s3cret pw" -H "Accept: application/taxii+json;version=2.1" $B/trustgroup1/collections/$COLL/objects/ | jq_ "len(d[\"objects\"]), d[\"more\"]")" = "(5, False)" ] &&
   grep -qi "^X-TAXII-Date-Added-First: 2014-05-08T09:00:00.000000Z" "$W/h" && grep -qi "^X-TAXII-Date-Added-Last: 2017-12-31T13:49:53.935000Z" "$W/h"'

# history with a host that fetched one of the peer's URLs: the pull's retro-hunt finds it
E=$(date -u -d 2026-10-02T10:00:00Z +%s)
echo "$E.100    120 10.0.0.5 TCP_MISS/200 512 GET http://x4z9arb.cn/4712 bob DIRECT/192.0.2.10 text/html" >access.log
S="--store $W/s"
"$TIDE" $S history import access.log >/dev/null 2>&1
check "setup: history holds the request" '"$TIDE" $S history stats 2>/dev/null | grep -q "1 events\|events.*1"'

# 1. the first pull: objects added up to 2017-01-20 exist yet
echo '{"hide_after": "2017-01-21T00:00:00Z"}' >ctl.json
"$TIDE" $S feeds add peer $B/taxii2/ --collection $COLL --user alice --password 's3cret pw' \
  --limit 2 --tlp green --interval 30m >/dev/null 2>add.err
check "add: exit 0" '[ $? -eq 0 ]'
: >log.jsonl
"$TIDE" $S feeds pull peer --json >pull1.json 2>pull1.err; rc=$?
check "pull 1: exit 0" '[ $rc -eq 0 ]'
check "pull 1: 4 objects (the newest versions added by then) in 2 pages of limit 2" \
  '[ "$(jq_ "d[\"stored\"], d[\"pages\"]" <pull1.json)" = "(4, 2)" ]'
src=$("$TIDE" $S stats --json | jq_ "d[\"by_source\"]")
check "pull 1: every object has the source peer, TLP green (got $src)" \
  '[ "$src" = "{'"'"'peer'"'"': 4}" ] && [ "$("$TIDE" $S stats --json | jq_ "d[\"by_tlp\"]")" = "{'"'"'green'"'"': 4}" ]'
check "pull 1: discovery, its default API root, the collection, then objects; all URLs end in /" \
  '[ "$(python3 -c "import json; print(\" \".join(json.loads(l)[\"path\"] for l in open(\"log.jsonl\")))")" = "/taxii2/ /trustgroup1/ /trustgroup1/collections/$COLL/ /trustgroup1/collections/$COLL/objects/ /trustgroup1/collections/$COLL/objects/" ]'
check "pull 1: Accept version=2.1 and HTTP Basic on every request" \
  'python3 -c "import json; import sys; sys.exit(any(json.loads(l)[\"accept\"] != \"application/taxii+json;version=2.1\" or json.loads(l)[\"auth\"] != \"Basic\" for l in open(\"log.jsonl\")))"'
check "pull 1: the second page asked with next" 'tail -1 log.jsonl | grep -q "limit=2&next="'
check "pull 1: the retro-hunt of the pulled indicators (hunted ... 1 retro-sightings)" \
  'grep -q "hunted 2 indicators: 1 hosts, 1 retro-sightings" pull1.err'
check "pull 1: the retro-sighting stored for 10.0.0.5" \
  '"$TIDE" $S sightings --retro --json | grep -q "\"host\":\"10.0.0.5\".*indicator--6770298f"'
cur=$("$TIDE" $S feeds list --json | jq_ "d[0][\"cursor\"]")
check "pull 1: resumes after the last page's X-TAXII-Date-Added-Last (got $cur)" '[ "$cur" = 2017-01-20T00:00:00.000000Z ]'
check "list: the secret is never shown" \
  '! "$TIDE" $S feeds list | grep -q "s3cret" && ! "$TIDE" $S feeds list --json | grep -q "s3cret" && "$TIDE" $S feeds list --json | grep -q "\"secret\": true"'
check "the store's database is mode 0600 once a secret is in" '[ "$(stat -c %a s/tide.db)" = 600 ]'

# 2. the rest of the collection arrives: the second pull gets only that
echo '{}' >ctl.json
: >log.jsonl
"$TIDE" $S feeds pull peer --json >pull2.json 2>pull2.err; rc=$?
check "pull 2: exit 0" '[ $rc -eq 0 ]'
check "pull 2: asked added_after=2017-01-20T00:00:00.000000Z" 'grep -q "added_after=2017-01-20T00%3A00%3A00.000000Z" log.jsonl'
check "pull 2: only the 2 objects added since (new versions of the indicator and the malware)" \
  '[ "$(jq_ "d[\"records\"], d[\"stored\"]" <pull2.json)" = "(2, 2)" ]'
check "pull 2: the indicator is at its newest version" \
  '"$TIDE" $S show indicator--6770298f-0fd8-471a-ab8c-1c658a46574e | grep -q "\"modified\": \"2017-01-27T13:49:53.935Z\""'
"$TIDE" $S feeds pull peer --json >pull3.json 2>/dev/null
check "pull 3: nothing new" '[ "$(jq_ "d[\"ok\"], d[\"records\"]" <pull3.json)" = "(True, 0)" ]'
N=$("$TIDE" $S stats --json | jq_ "d[\"objects\"]")
CUR=$("$TIDE" $S feeds list --json | jq_ "d[0][\"cursor\"]")
check "after 3 pulls: 6 object versions, resume point 2017-12-31T13:49:53.935000Z" \
  '[ "$N" = 6 ] && [ "$CUR" = 2017-12-31T13:49:53.935000Z ]'
kept() { [ "$("$TIDE" $S stats --json | jq_ "d[\"objects\"]")" = "$N" ] && [ "$("$TIDE" $S feeds list --json | jq_ "[f for f in d if f[\"name\"] == \"peer\"][0][\"cursor\"]")" = "$CUR" ]; }

# 3. failures: non-zero, the feed, the URL and the reason; nothing lost
"$TIDE" $S feeds add badpw $B/taxii2/ --collection $COLL --user alice --password wrong >/dev/null 2>&1
"$TIDE" $S feeds pull badpw 2>err; rc=$?
check "bad credentials: exit 3, feed, URL, HTTP 401" \
  '[ $rc -eq 3 ] && grep -q "feed badpw: $B/taxii2/: HTTP 401 Unauthorized" err'
check "bad credentials: the status says so in the list" \
  '"$TIDE" $S feeds list --json | jq_ "[f[\"last_status\"] for f in d if f[\"name\"] == \"badpw\"][0]" | grep -q "HTTP 401"'
"$TIDE" $S feeds add gone http://127.0.0.1:1/taxii2/ --kind taxii >/dev/null 2>&1
"$TIDE" $S feeds pull gone --retries 1 --retry-wait 0.1 2>err; rc=$?
check "unreachable: exit 3, retried once, then the feed, the URL and the reason" \
  '[ $rc -eq 3 ] && grep -q "retrying in 0.1 s (attempt 2 of 2)" err && grep -q "feed gone: http://127.0.0.1:1/taxii2/: .*connect.*after 2 attempts" err'
echo '{"content_type": "application/json"}' >ctl.json
"$TIDE" $S feeds pull peer 2>err; rc=$?
check "wrong Content-Type: exit 2, refused by name" \
  '[ $rc -eq 2 ] && grep -q "feed peer: $B/taxii2/: Content-Type .application/json. is not application/taxii+json;version=2.1" err'
check "wrong Content-Type: earlier data and resume point kept" kept
echo '{"forever": "new"}' >ctl.json
"$TIDE" $S feeds pull peer --max-pages 5 2>err; rc=$?
check "pages forever (new tokens): exit 2 after the page cap" '[ $rc -eq 2 ] && grep -q "still \"more\" after 5 pages" err'
echo '{"forever": "same"}' >ctl.json
"$TIDE" $S feeds pull peer 2>err; rc=$?
check "pages forever (the same token): exit 2 at the repeat" '[ $rc -eq 2 ] && grep -q "token .the-same-token. again after 2 pages" err'
echo '{"forever": "nonext"}' >ctl.json
"$TIDE" $S feeds pull peer 2>err; rc=$?
check "more without next: exit 2, refused" '[ $rc -eq 2 ] && grep -q "\"more\": true without a \"next\"" err'
check "endless paging: earlier data and resume point kept" kept
echo '{"truncate": true}' >ctl.json
"$TIDE" $S feeds add fresh $B/trustgroup1/ --collection $COLL --user alice --password 's3cret pw' >/dev/null 2>&1
"$TIDE" $S feeds pull fresh 2>err; rc=$?
check "bad JSON: exit 2, the URL, the byte offset and the reason" \
  '[ $rc -eq 2 ] && grep -q "feed fresh: $B/trustgroup1/collections/$COLL/objects/: byte [0-9]*: the envelope is not valid JSON" err'
check "bad JSON: nothing stored from it, nothing lost" kept
echo '{"slow": 3}' >ctl.json
"$TIDE" $S feeds pull peer --timeout 1 --retries 0 2>err; rc=$?
check "slow peer: exit 3 on the timeout" '[ $rc -eq 3 ] && grep -qi "timeout\|timed out" err'

# 4. 500 then OK: retried as Retry-After says
echo '{"fail_first": 2, "retry_after": 1}' >ctl.json
"$TIDE" $S feeds pull fresh --json >retry.json 2>err; rc=$?
check "500 twice then OK: exit 0 after 2 retries, as Retry-After asks" \
  '[ $rc -eq 0 ] && [ "$(jq_ "d[\"retries\"], d[\"records\"]" <retry.json)" = "(2, 5)" ] && grep -q "HTTP 500; retrying in 1.0 s (attempt 2 of 4) as Retry-After asks" err'
check "500 then OK: the same objects as peer pulled (unchanged)" \
  '[ "$(jq_ "d[\"unchanged\"]" <retry.json)" = 5 ]'
echo '{}' >ctl.json

# 5. an API root given directly; which collection
"$TIDE" $S feeds add root $B/trustgroup1/ --kind taxii --user alice --password 's3cret pw' >/dev/null 2>&1
"$TIDE" $S feeds pull root 2>err; rc=$?
check "API root without --collection and 3 readable ones: exit 2, names them" \
  '[ $rc -eq 2 ] && grep -q "3 readable collections: say which with --collection" err && grep -q "$COLL" err'
"$TIDE" $S feeds add secret $B/trustgroup1/ --collection 64993447-4d7e-4f70-b94d-d7f33742ee63 --user alice --password 's3cret pw' >/dev/null 2>&1
"$TIDE" $S feeds pull secret 2>err; rc=$?
check "a collection with can_read false: refused before asking for objects" \
  '[ $rc -eq 2 ] && grep -q "can_read false" err && ! tail -1 log.jsonl | grep -q "64993447.*objects"'

# 6. pull every feed / the due ones; remove
"$TIDE" $S feeds add newone $B/taxii2/ --collection $COLL --user alice --password 's3cret pw' >/dev/null 2>&1
"$TIDE" $S feeds pull --due --retries 0 >/dev/null 2>due.err
check "--due: a feed never pulled is due, those pulled within their interval are not" \
  'grep -q "feed newone:" due.err && ! grep -q "feed peer:\|feed root:" due.err'
"$TIDE" $S feeds remove gone 2>/dev/null
check "remove: gone is no longer listed, its name is free" \
  '! "$TIDE" $S feeds list | grep -q "^gone " && "$TIDE" $S feeds add gone $B/taxii2/ --kind taxii >/dev/null 2>&1'
printf 's3cret pw\n' | "$TIDE" $S feeds add fromfile $B/taxii2/ --collection $COLL --user alice --password-file - --interval 0 >/dev/null 2>&1
"$TIDE" $S feeds pull fromfile --json >ff.json 2>/dev/null; rc=$?
check "--password-file - (stdin): the password works" '[ $rc -eq 0 ] && [ "$(jq_ "d[\"ok\"]" <ff.json)" = True ]'
"$TIDE" $S feeds add peer $B/taxii2/ 2>err; rc=$?
check "add: a taken name is refused" '[ $rc -ne 0 ] && grep -q "exists already" err'
"$TIDE" $S feeds add x http://alice:pw@127.0.0.1:$P/taxii2/ 2>err; rc=$?
check "add: credentials inside the URL are refused" '[ $rc -eq 2 ] && grep -q "holds credentials" err'

# 7. a proxy from the environment: the request line carries the absolute URL
"$TIDE" --store $W/px feeds add viaproxy http://taxii.example/taxii2/ --collection $COLL --user alice --password 's3cret pw' >/dev/null 2>&1
: >log.jsonl
http_proxy=http://127.0.0.1:$P "$TIDE" --store $W/px feeds pull viaproxy --json >px.json 2>/dev/null; rc=$?
check "http_proxy: pulled through the proxy" \
  '[ $rc -eq 0 ] && [ "$(jq_ "d[\"stored\"]" <px.json)" = 5 ] && grep -q "\"host\": \"taxii.example\".*\"proxied\": true" log.jsonl'

# 8. HTTPS with a CA bundle, and a bearer key
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
  serve --tls cert.pem key.pem --key k-123
  T=https://127.0.0.1:$PORT/taxii2/
  "$TIDE" --store $W/tls feeds add nobundle $T --collection $COLL --key k-123 >/dev/null 2>&1
  "$TIDE" --store $W/tls feeds pull nobundle --retries 0 2>err; rc=$?
  check "HTTPS: a self-signed peer without --ca-bundle is refused (exit 3)" \
    '[ $rc -eq 3 ] && grep -qi "certificate" err'
  "$TIDE" --store $W/tls feeds add tls $T --collection $COLL --key k-123 --ca-bundle cert.pem >/dev/null 2>&1
  "$TIDE" --store $W/tls feeds pull tls --json >tls.json 2>/dev/null; rc=$?
  check "HTTPS with --ca-bundle and a bearer key: 5 objects" '[ $rc -eq 0 ] && [ "$(jq_ "d[\"stored\"]" <tls.json)" = 5 ]'
  "$TIDE" --store $W/tls feeds add badkey $T --collection $COLL --key nope --ca-bundle cert.pem >/dev/null 2>&1
  "$TIDE" --store $W/tls feeds pull badkey 2>err; rc=$?
  check "a bad bearer key: exit 3, HTTP 401" '[ $rc -eq 3 ] && grep -q "HTTP 401" err'
fi

echo "feeds_taxii: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
