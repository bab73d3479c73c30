#!/usr/bin/env bash
# ingest_cli.sh - `tide ingest` through the CLI on real data: ATT&CK counts as the acceptance
# check computes them, IOC lists with the observable kinds of the iocs README, bad input with
# file:line reasons and exit codes, and a `tide ingest` killed mid-way leaving a consistent
# store that loses nothing committed.
set -u
TIDE=$1; SRC=$2
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { [ "${CI:-}" = true ] && exit 1; echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-ingest-cli.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }

# 1. ATT&CK: the store holds exactly the distinct (id, modified) versions of the files
A=$DATA/attack
"$TIDE" --store "$W/att" ingest --format stix "$A/ics-attack-18.1.json" "$A/mobile-attack-17.1.json" 2>"$W/att.err"
want=$(python3 -c "
import json,sys
v=set()
for f in sys.argv[1:]: v|={(o['id'],o.get('modified','')) for o in json.load(open(f))['objects']}
print(len(v))" "$A/ics-attack-18.1.json" "$A/mobile-attack-17.1.json")
got=$("$TIDE" --store "$W/att" stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['objects'])")
check "attack versions $got == $want" '[ "$got" = "$want" ]'
"$TIDE" --store "$W/att" ingest "$A/ics-attack-18.1.json" --json >"$W/again.json" 2>/dev/null
check "re-ingest stores nothing" 'grep -q "\"stored\":0" "$W/again.json"'

# 2. IOC lists: observable kinds per file
"$TIDE" --store "$W/ioc" ingest --format list --source ipsum "$DATA/iocs/ipsum/ipsum.txt" 2>/dev/null
n=$("$TIDE" --store "$W/ioc" stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['observables'].get('ipv4',0))")
check "ipsum: 120430 ipv4 (got $n)" '[ "$n" = 120430 ]'
"$TIDE" --store "$W/ioc" ingest --format list --source firehol "$DATA/iocs/firehol/firehol_level1.netset" 2>/dev/null
"$TIDE" --store "$W/ioc" show 206.130.141.255:449 >/dev/null 2>&1
"$TIDE" --store "$W/ioc" ingest --source maltrail "$DATA/iocs/maltrail/malware/trickbot.txt" 2>/dev/null
"$TIDE" --store "$W/ioc" ingest --json --source maltrail "$DATA/iocs/maltrail/malware/trickbot.txt" >"$W/again2.json" 2>/dev/null
check "re-ingest of a list stores nothing" 'grep -q "\"stored\":0" "$W/again2.json"'
check "show ip:port from trickbot" '"$TIDE" --store "$W/ioc" show 206.130.141.255:449 | grep -q trickbot'
check "search --related trickbot" '[ "$("$TIDE" --store "$W/ioc" search --type indicator --related trickbot 2>/dev/null | wc -l)" -gt 100 ]'

# 3. bad input: messages name file and line, good records kept, exit 1
printf '1.2.3.4\nnot a value at all\nevil.example.com\n' >"$W/bad.txt"
"$TIDE" --store "$W/bad" ingest --format list "$W/bad.txt" 2>"$W/bad.err"; rc=$?
check "bad list: exit 1 (got $rc)" '[ $rc = 1 ]'
check "bad list: file:line in message" 'grep -q "bad.txt:2" "$W/bad.err"'
check "bad list: good records stored" '"$TIDE" --store "$W/bad" show evil.example.com >/dev/null'
head -c 3000 /dev/urandom >"$W/binary.bin"
"$TIDE" --store "$W/bad" ingest "$W/binary.bin" 2>"$W/bin.err"; rc=$?
check "binary file: refused, exit 2 (got $rc)" '[ $rc = 2 ] && grep -q binary.bin "$W/bin.err"'
"$TIDE" --store "$W/bad" pattern validate "[ipv4-addr:value = '1.2.3.4'" 2>/dev/null; rc=$?
check "invalid pattern: exit 1" '[ $rc = 1 ]'

# 4. kill -9 mid-way: the store stays consistent and keeps everything committed before.
python3 "$SRC/../shared/bench/gen_corpus.py" --out "$W/gc" --indicators 150000 --events 10 --hosts 10 --plant 1 >/dev/null
B=$W/gc/intel/bundle.stix.json
db_count() {  # objects in a store, read-only, 0 when unreadable
  python3 -c "
import sqlite3,sys
try: print(sqlite3.connect('file:$1/tide.db?mode=ro', uri=True).execute('select count(*) from objects').fetchone()[0])
except Exception: print(0)" 2>/dev/null
}
consistency() {  # integrity, no orphan index rows, every stored object equal to its source
  python3 - "$1/tide.db" "$B" "$W/demo-ids.txt" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
n = db.execute("select count(*) from objects").fetchone()[0]
multi = db.execute("select count(*) from (select id from objects where is_current group by id having count(*) > 1)").fetchone()[0]
orphans = sum(db.execute(q).fetchone()[0] for q in (
    "select count(*) from indicators i left join objects o on o.rowid = i.obj where o.rowid is null or not o.is_current",
    "select count(*) from observables b left join objects o on o.rowid = b.obj where o.rowid is null",
    "select count(*) from refs r left join objects o on o.rowid = r.obj where o.rowid is null",
    "select count(*) from objects where json is null"))
src = {o["id"]: o for o in json.load(open(sys.argv[2]))["objects"]}
bad = sum(1 for i, j in db.execute("select id, json from objects") if i in src and json.loads(j) != src[i])
print("objects", n, "duplicate current", multi, "orphan index rows", orphans, "differing", bad)
sys.exit(0 if multi == 0 and orphans == 0 and bad == 0 else 1)
PY
}
# 4a. a first load into an empty store is one transaction: killed, the store is as before
"$TIDE" --store "$W/k1" init >/dev/null
"$TIDE" --store "$W/k1" ingest --format stix "$B" 2>/dev/null &
pid=$!
size=$(stat -c %s "$B")
for _ in $(seq 1 600); do  # kill once the load has read a third of the bundle
  sleep 0.02
  read_bytes=$(awk '/^rchar/ {print $2}' /proc/$pid/io 2>/dev/null || echo 0)
  [ "${read_bytes:-0}" -gt $((size / 3)) ] && break
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
consistency "$W/k1" >"$W/k1.out" 2>&1; rc=$?; cat "$W/k1.out"
check "killed first load: consistent, nothing half-written" '[ $rc = 0 ] && [ "$(db_count "$W/k1")" = 0 ]'
# 4b. loading into a store that holds intel commits batch by batch: killed, every batch stays
"$TIDE" --store "$W/k2" ingest --format list --source seed "$W/bad.txt" >/dev/null 2>&1
before=$(db_count "$W/k2")
"$TIDE" --store "$W/k2" ingest --batch 5000 --format stix "$B" 2>/dev/null &
pid=$!
for _ in $(seq 1 200); do
  sleep 0.1
  [ "$(db_count "$W/k2")" -gt $((before + 5000)) ] && break
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
consistency "$W/k2" >"$W/k2.out" 2>&1; rc=$?; cat "$W/k2.out"
after=$(db_count "$W/k2")
check "killed incremental load: consistent, committed batches kept ($before -> $after)" \
  '[ $rc = 0 ] && [ "$after" -gt "$before" ] && "$TIDE" --store "$W/k2" show evil.example.com >/dev/null'
"$TIDE" --store "$W/k2" ingest --format stix "$B" 2>/dev/null
total=$(python3 -c "import json; print(len(json.load(open('$B'))['objects']))")
got=$(( $(db_count "$W/k2") - before ))
check "re-run completes: $got == $total" '[ "$got" = "$total" ]'
"$TIDE" --store "$W/k1" ingest --format stix "$B" 2>/dev/null
check "re-run of the killed first load completes" '[ "$(db_count "$W/k1")" = "$total" ]'

echo "$pass passed, $fail failed"
[ $fail = 0 ]
