#!/usr/bin/env bash
# warninglist_cli.sh - `tide warninglist load|check|list` on the real MISP warninglists, plus
# the built-in private / bogon ranges that apply with no list loaded.
set -u
TIDE=$1; SRC=$2
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
W=$(mktemp -d /tmp/tide-wl.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }

# built-in ranges need no list
check "10.1.2.3 is built-in private" '"$TIDE" --store "$W/s" warninglist check 10.1.2.3 | grep -q warninglisted'
check "127.0.0.1 is loopback" '"$TIDE" --store "$W/s" warninglist check 127.0.0.1 | grep -q warninglisted'
"$TIDE" --store "$W/s" warninglist check 1.2.3.4 >/dev/null; rc=$?
check "1.2.3.4 is not listed (exit 1)" '[ $rc = 1 ]'
if [ ! -d "$DATA" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "$pass passed, $fail failed, 1 skipped"; [ $fail = 0 ]; exit
fi
L=$DATA/misp/misp-warninglists/lists
"$TIDE" --store "$W/s" warninglist load "$L" >"$W/load.out" 2>&1
check "load all 29 lists" 'grep -q "29 list(s)" "$W/load.out"'
check "8.8.8.8 in public-dns-v4" '"$TIDE" --store "$W/s" warninglist check 8.8.8.8 | grep -qi "dns"'
check "mail.google.com by hostname list" '"$TIDE" --store "$W/s" warninglist check mail.google.com | grep -q warninglisted'
check "empty-file md5" '"$TIDE" --store "$W/s" warninglist check d41d8cd98f00b204e9800998ecf8427e | grep -q warninglisted'
check "defanged evil[.]example stays unlisted" '! "$TIDE" --store "$W/s" warninglist check "zzqx-unlisted-tide[.]top" | grep -q warninglisted'
check "list shows lists" '[ "$("$TIDE" --store "$W/s" warninglist list | wc -l)" -ge 29 ]'
"$TIDE" --store "$W/s" warninglist load "$W/nope.json" 2>"$W/err"; rc=$?
check "missing file: exit 2 with the path" '[ $rc = 2 ] && grep -q nope.json "$W/err"'
echo '{"name": "x", "list": 5}' >"$W/bad.json"
"$TIDE" --store "$W/s" warninglist load "$W/bad.json" 2>"$W/err"; rc=$?
check "bad list file: refused with a reason" '[ $rc = 2 ] && grep -q bad.json "$W/err"'
echo "$pass passed, $fail failed"
[ $fail = 0 ]
