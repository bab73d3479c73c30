#!/usr/bin/env bash
# serve_stop.sh - the clean stop of `tide serve` with long work under way (docs/server.md,
# "Stopping"): a scheduled feed pull waiting on a peer that answers in 120 s, and a hunt of every
# indicator over a generated history (../shared/bench/gen_corpus.py: 20 000 indicators, telemetry
# imported with `tide history import`). SIGTERM with --grace 2: the server exits 0 well before
# the peer would answer (what ran past the grace was cancelled, and the log says so), the store
# passes SQLite's integrity_check, the history reads, the cancelled pull stored nothing and
# recorded its failure, and the hunt's retro-sightings are all stored or none.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
GEN=$SRC/../shared/bench/gen_corpus.py
if [ ! -f "$GEN" ] || [ ! -f "$DATA/taxii21/medallion/default_data.json" ]; then
    [ "${CI:-}" = true ] && { echo "shared data missing (CI=true)"; exit 1; }
    echo "skipped: shared data or bench generator absent"; exit 77
fi
command -v python3 >/dev/null || { [ "${CI:-}" = true ] && exit 1; echo "skipped: no python3"; exit 77; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
W=$(mktemp -d /tmp/tide-serve-stop.XXXXXX)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
. "$SRC/tests/integration/lib/serve_common.bash"
SRV=
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; serve_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$W"; }
trap cleanup EXIT
wait_for() { local end=$((SECONDS + $1)); shift; while [ $SECONDS -lt $end ]; do eval "$1" && return 0; sleep 0.2; done; return 1; }
cd "$W"

# a store with 20 000 indicators and a history of the generated telemetry
python3 "$GEN" --out corpus --indicators 20000 --events 100000 --hosts 500 --plant 100 >/dev/null
S=$W/s
"$TIDE" --store "$S" ingest --no-hunt corpus/intel/bundle.stix.json >/dev/null 2>&1
"$TIDE" --store "$S" history import corpus/telemetry/eve.json corpus/telemetry/sysmon.json >/dev/null 2>&1
check "history imported" '"$TIDE" --store "$S" history stats --json | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)[\"records\"] > 100000 else 1)"'
OBJ0=$("$TIDE" --store "$S" stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['objects'])")

# a peer that answers in 120 s
echo '{"slow": 120}' >control.json
python3 "$SRC/tests/taxii_replay.py" --data "$DATA/taxii21/medallion/default_data.json" \
    --port-file port --control control.json --files "$DATA/iocs" 2>replay.err &
SRV=$!
for _ in $(seq 300); do [ -s port ] && break; sleep 0.1; done
"$TIDE" --store "$S" feeds add slowpeer "http://127.0.0.1:$(cat port)/files/firehol/botvrij_dst.ipset" --interval 1h >/dev/null 2>&1
ANALYST=$(key "$S" analyst analyst red)

serve_start "$S" --grace 2
wait_for 60 '[ "$(code "$ANALYST" GET /api/v1/schedule)" = 200 ] && [ "$(jget "d[\"jobs\"][0][\"running\"]")" = True ]'
check "the scheduled pull of the slow peer is under way" '[ "$(jget "d[\"jobs\"][0][\"running\"]")" = True ]'
check "a hunt of every indicator starts" '[ "$(code "$ANALYST" POST /api/v1/hunts -d "{\"added_since\": \"2000-01-01\"}")" = 202 ]'
T0=$(date +%s)
serve_stop
T1=$(date +%s)
check "SIGTERM: exit 0" '[ "$SERVE_RC" = 0 ]'
check "... within the grace (2 s) and a margin, not after the peer's 120 s ($((T1 - T0)) s)" '[ $((T1 - T0)) -le 30 ]'
check "... the pull still running after the grace was cancelled (logged)" 'grep -q "grace time over: cancelling .*the scheduled job" "$W/serve.log" && grep -q "stopped" "$W/serve.log"'
check "the store passes SQLite's integrity_check" '[ "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"pragma integrity_check\").fetchone()[0])" "$S/tide.db")" = ok ]'
check "the history reads as before" '"$TIDE" --store "$S" history stats --json | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)[\"records\"] > 100000 else 1)"'
check "the cancelled pull stored nothing" '[ "$("$TIDE" --store "$S" stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"objects\"])")" = "$OBJ0" ]'
check "... and recorded why (cancelled)" '"$TIDE" --store "$S" feeds list --json | python3 -c "import json,sys; f=json.load(sys.stdin)[0]; sys.exit(0 if \"cancelled\" in (f[\"last_status\"] or \"\") else 1)"'
# the hunt: its whole result or nothing (a hunt of the same indicators, not stored, counts them)
WANT=$("$TIDE" --store "$S" hunt --added-since 2000-01-01 --no-store --json 2>/dev/null | wc -l)
GOT=$("$TIDE" --store "$S" sightings --retro --json --limit 1000000 2>/dev/null | wc -l)
check "the hunt's retro-sightings: all ($WANT) or none, got $GOT" '[ "$WANT" -gt 0 ] && { [ "$GOT" = 0 ] || [ "$GOT" = "$WANT" ]; }'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
