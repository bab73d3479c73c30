#!/usr/bin/env bash
# files_safe.sh - every file tide writes is written safely (issue 22; util/outfile.h, docs in
# README "Files tide writes"): exports to a FIFO, a character device and - are written directly
# (the FIFO / device stays what it is); a folder or a symbolic link at the output is refused
# (exit 2, nothing written, the link's target untouched); a symlink planted where the old
# OUTPUT.tmp was is never followed; concurrent exports of one target (20 rounds of three) always
# leave one complete zone, the last one's, and no temporary file; kill -9 of an export at random
# points leaves the old zone or the new one, and the next export removes the killed one's
# temporary file; the store, its database and history are private to the owner under umask 000
# and 077, a new export takes the umask, an existing export keeps its mode and owner; on a full
# file system (a 128 KiB tmpfs) case share and export fail with ENOSPC and leave the file before
# intact. Real intel: maltrail's NanoCore trail list. The device, owner and tmpfs checks need
# root: skipped otherwise (exit 77 when everything that ran was skipped; under CI=true a skip is
# a failure only when root).
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
DATA=$(cd "${TIDE_SHARED_DATA:-$SRC/../shared/data}" 2>/dev/null && pwd)
[ -n "$DATA" ] || { echo "skipped: no shared data"; [ "${CI:-}" = true ] && exit 1; exit 77; }
W=$(mktemp -d /tmp/tide-files.XXXXXX)
MNT=
cleanup() {
  [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
pass=0; fail=0; skip=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
skipped() {
  if [ "${CI:-}" = true ] && [ "$(id -u)" = 0 ]; then fail=$((fail+1)); echo "FAIL $1 (CI=true)"
  else skip=$((skip+1)); echo "skip $1"; fi
}
isroot() { [ "$(id -u)" = 0 ]; }
mode() { stat -c %a "$1"; }
zone_ok() { # zone_ok FILE: a complete zone (named-checkzone when there, else header + last line)
  if command -v named-checkzone >/dev/null 2>&1; then named-checkzone rpz.tide "$1" >/dev/null 2>&1
  else head -1 "$1" | grep -q '^; tide RPZ export' && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ]; fi
}
body() { grep -av 'SOA' "$1"; } # a zone without its serial
serial() { awk '/SOA/{print $7}' "$1"; }
cd "$W" || exit 1

# ---- modes: the store, its database and history private to the owner whatever the umask
(umask 000 && "$TIDE" --store "$W/s000" demo >/dev/null 2>&1)
check "umask 000: demo store built" '[ -f "$W/s000/tide.db" ]'
check "umask 000: store folder 0700, database 0600" '[ "$(mode s000)" = 700 ] && [ "$(mode s000/tide.db)" = 600 ]'
check "umask 000: database -wal / -shm / journal 0600 when present" 'for f in s000/tide.db-*; do [ -e "$f" ] || continue; [ "$(mode "$f")" = 600 ] || exit 1; done'
check "umask 000: history folder 0700, its runs, MANIFEST and LOCK 0600" '[ "$(mode s000/history)" = 700 ] && ls s000/history/*.hst >/dev/null 2>&1 && for f in s000/history/*; do [ "$(mode "$f")" = 600 ] || exit 1; done'
check "umask 000: match index cache 0600" '[ "$(mode s000/match.idx)" = 600 ]'
(umask 000 && "$TIDE" --store "$W/s000" export --format rpz --output "$W/u000.rpz" 2>/dev/null)
check "umask 000: a new export takes the umask (0666)" '[ "$(mode u000.rpz)" = 666 ]'
(umask 077 && "$TIDE" --store "$W/s077" init >/dev/null 2>&1 && "$TIDE" --store "$W/s077" history import "$DATA/zeek/trickbot-2018-11-09/dns.log" >/dev/null 2>&1)
check "umask 077: store 0700, database 0600, history 0700 / 0600" '[ "$(mode s077)" = 700 ] && [ "$(mode s077/tide.db)" = 600 ] && [ "$(mode s077/history)" = 700 ] && for f in s077/history/*; do [ "$(mode "$f")" = 600 ] || exit 1; done'
(umask 077 && "$TIDE" --store "$W/s000" export --format rpz --output "$W/u077.rpz" 2>/dev/null)
check "umask 077: a new export takes the umask (0600)" '[ "$(mode u077.rpz)" = 600 ]'
S="--store $W/s000"
"$TIDE" $S export --format rpz --output "$W/keep.rpz" 2>/dev/null
chmod 0640 keep.rpz
(umask 022 && "$TIDE" $S export --format rpz --output "$W/keep.rpz" 2>/dev/null)
check "an existing 0640 export keeps 0640 after a re-export under umask 022" '[ "$(mode keep.rpz)" = 640 ] && zone_ok keep.rpz'
if isroot && id nobody >/dev/null 2>&1; then
  chown nobody keep.rpz && chmod 0600 keep.rpz
  "$TIDE" $S export --format rpz --output "$W/keep.rpz" 2>/dev/null
  check "another user's 0600 export stays theirs, 0600, when root re-exports" '[ "$(stat -c %U:%a keep.rpz)" = nobody:600 ] && zone_ok keep.rpz'
else skipped "owner kept (needs root and user nobody)"; fi

# ---- streams: a FIFO, -, a character device are written directly, never replaced
mkfifo fifo
timeout 20 cat fifo >fifo.out & CAT=$!
timeout 20 "$TIDE" $S export --format rpz --output "$W/fifo" 2>fifo.err; rc=$?
wait $CAT
check "export to a FIFO: exit 0, the reader gets the whole zone" '[ $rc = 0 ] && zone_ok fifo.out'
check "export to a FIFO: the FIFO is still a FIFO" '[ -p fifo ]'
"$TIDE" $S export --format rpz --output - >dash.out 2>/dev/null; rc=$?
check "export to -: the zone on stdout, no file named -" '[ $rc = 0 ] && zone_ok dash.out && [ ! -e "$W/-" ]'
"$TIDE" $S case share 1 --tlp-max green --output - >share-dash.json 2>share-dash.err; rc=$?
check "case share to -: the bundle on stdout, the message on stderr, no file named -" '[ $rc = 0 ] && python3 -c "import json,sys; assert json.load(open(sys.argv[1]))[\"type\"] == \"bundle\"" share-dash.json && grep -q "written to -" share-dash.err && [ ! -e "$W/-" ]'
if isroot && mknod "$W/null" c 1 3 2>/dev/null && mknod "$W/full" c 1 7 2>/dev/null; then
  # device nodes of our own in $W: a tide that replaced them would break nothing else
  "$TIDE" $S export --format rpz --output "$W/null" 2>/dev/null; rc=$?
  check "export to a character device (a null node): exit 0, still a character device" '[ $rc = 0 ] && [ -c null ]'
  "$TIDE" $S export --format rpz --output "$W/full" 2>full.err; rc=$?
  check "export to a full device: exit 3, ENOSPC named, still a character device" '[ $rc = 3 ] && grep -q "No space left on device" full.err && [ -c full ]'
else skipped "character devices (needs root for mknod)"; fi

# ---- a folder or a link at the output is refused; a planted OUTPUT.tmp link is never followed
mkdir adir
"$TIDE" $S export --format rpz --output "$W/adir" 2>folder.err; rc=$?
check "export to a folder: exit 2, reason given, nothing written" '[ $rc = 2 ] && grep -q "is a folder" folder.err && [ -z "$(ls -A adir)" ] && [ -z "$(ls -d adir?* 2>/dev/null)" ]'
"$TIDE" $S case share 1 --tlp-max green --output "$W/adir" 2>/dev/null; rc=$?
check "case share to a folder: refused, nothing written" '[ $rc = 2 ] && [ -z "$(ls -A adir)" ]'
echo precious >victim
ln -s "$W/victim" planted.rpz.tmp
"$TIDE" $S export --format rpz --output "$W/planted.rpz" 2>/dev/null; rc=$?
check "a symlink planted at OUTPUT.tmp: its target untouched, the zone written" '[ $rc = 0 ] && [ "$(cat victim)" = precious ] && zone_ok planted.rpz && [ ! -L planted.rpz ]'
ln -s "$W/victim" link.rpz
"$TIDE" $S export --format rpz --output "$W/link.rpz" 2>link.err; rc=$?
check "export to a symlink: refused (exit 2, named), the link and its target untouched" '[ $rc = 2 ] && grep -q "symbolic link" link.err && [ -L link.rpz ] && [ "$(cat victim)" = precious ]'
ln -s "$W/victim" link.json
"$TIDE" $S case share 1 --tlp-max green --output "$W/link.json" 2>/dev/null; rc=$?
check "case share to a symlink: refused, its target untouched" '[ $rc = 2 ] && [ -L link.json ] && [ "$(cat victim)" = precious ]'
mkdir sq && ln -s "$W/sq" sqlink
"$TIDE" $S export --format squid --output "$W/sqlink" 2>/dev/null; rc=$?
check "folder export to a symlinked folder: refused, nothing written" '[ $rc = 2 ] && [ -z "$(ls -A sq)" ]'
"$TIDE" $S export --format squid --output "$W/sqdir" 2>/dev/null; rc=$?
check "folder export: every file complete, no temporary file" '[ $rc = 0 ] && [ -s sqdir/tide.conf ] && [ -z "$(ls sqdir | grep "\.tmp$")" ]'

# ---- concurrent writers of one target: always one complete zone, the last run's. The three
# writers of a round differ (--action), so that a zone mixed from two of them shows.
"$TIDE" --store "$W/big" ingest --format list --source maltrail "$DATA/iocs/maltrail/malware/nanocore.txt" >/dev/null 2>&1
B="--store $W/big"
ACTIONS="nxdomain nodata drop"
for a in $ACTIONS; do "$TIDE" $B export --format rpz --action $a --output "$W/ref-$a.rpz" 2>/dev/null; done
cp ref-nxdomain.rpz ref.rpz
check "reference zones of NanoCore's trails" 'for a in $ACTIONS; do zone_ok ref-$a.rpz || exit 1; done && [ "$(grep -c CNAME ref.rpz)" -gt 4000 ]'
torn=0; stale=0; notlast=0; sameserial=0
for r in $(seq 1 20); do
  k=0
  for a in $ACTIONS; do k=$((k+1)); "$TIDE" $B export --format rpz --action $a --output "$W/same.rpz" 2>"$W/c$k.err" & done
  wait
  serials=$(cat c1.err c2.err c3.err | sed -n 's/.*serial \([0-9]*\).*/\1/p' | sort -n)
  last=$(echo "$serials" | tail -1)
  [ "$(echo "$serials" | uniq | wc -l)" = 3 ] || sameserial=$((sameserial+1))
  one=0
  for a in $ACTIONS; do [ "$(body same.rpz)" = "$(body ref-$a.rpz)" ] && one=1; done
  { zone_ok same.rpz && [ $one = 1 ]; } || torn=$((torn+1))
  [ "$(serial same.rpz)" = "$last" ] || notlast=$((notlast+1))
  ls | grep -q '^same\.rpz\..*\.tmp$' && stale=$((stale+1))
done
echo "     concurrent exports: $torn torn, $sameserial with a serial given twice, $notlast not the last run's, $stale with a temporary file left, of 20 rounds x 3"
check "20 rounds of 3 concurrent exports: every zone complete, one run's output" '[ $torn = 0 ]'
check "20 rounds of 3 concurrent exports: serialised (three different serials a round, each above the one before)" '[ $sameserial = 0 ]'
check "20 rounds of 3 concurrent exports: the zone is the last run's (its serial is the highest reported)" '[ $notlast = 0 ]'
check "20 rounds of 3 concurrent exports: no temporary file left" '[ $stale = 0 ]'

# ---- kill -9 at random points: the zone before or after, never a torn one; leftovers swept
cp ref.rpz killed.rpz
bad=0
for r in $(seq 1 10); do
  "$TIDE" $B export --format rpz --output "$W/killed.rpz" 2>/dev/null & P=$!
  sleep "$(printf '0.%03d' $((RANDOM % 250)))"
  kill -9 $P 2>/dev/null; wait $P 2>/dev/null
  { zone_ok killed.rpz && [ "$(body killed.rpz)" = "$(body ref.rpz)" ]; } || bad=$((bad+1))
done
echo "     kill -9: $bad of 10 left a torn zone"
check "kill -9 of exports at random points: the zone is always complete" '[ $bad = 0 ]'
echo torn >killed.rpz.Ab12Cd.tmp
"$TIDE" $B export --format rpz --output "$W/killed.rpz" 2>/dev/null
check "the next export removes a killed export's temporary file" '[ -z "$(ls | grep "^killed\.rpz\..*\.tmp$")" ] && zone_ok killed.rpz'

# ---- a full file system: the file before stays, ENOSPC is reported, nothing is left behind
if isroot && mkdir full-fs && mount -t tmpfs -o size=128k tmpfs "$W/full-fs" 2>/dev/null; then
  MNT=$W/full-fs
  "$TIDE" $S case share 1 --tlp-max green --output "$MNT/share.json" >/dev/null 2>&1
  "$TIDE" $S export --format rpz --output "$MNT/zone.rpz" 2>/dev/null
  cp "$MNT/share.json" share.before && cp "$MNT/zone.rpz" zone.before
  dd if=/dev/zero of="$MNT/fill" bs=4k >/dev/null 2>&1
  "$TIDE" $S case share 1 --tlp-max amber --output "$MNT/share.json" >/dev/null 2>share.err; rc=$?
  check "case share on a full disk: fails (exit 3), names ENOSPC" '[ $rc = 3 ] && grep -q "No space left on device" share.err'
  check "case share on a full disk: the share before is intact, no temporary file" 'cmp -s share.before "$MNT/share.json" && [ -z "$(ls "$MNT" | grep "\.tmp$")" ]'
  "$TIDE" $S export --format rpz --output "$MNT/zone.rpz" 2>zone.err; rc=$?
  check "export on a full disk: fails (exit 3, ENOSPC), the zone before intact, no temporary file" '[ $rc = 3 ] && grep -q "No space left on device" zone.err && cmp -s zone.before "$MNT/zone.rpz" && [ -z "$(ls "$MNT" | grep "\.tmp$")" ]'
  rm -f "$MNT/fill"
  "$TIDE" $S case share 1 --tlp-max amber --output "$MNT/share.json" >/dev/null 2>&1
  check "with room again, the share is replaced" '! cmp -s share.before "$MNT/share.json" && python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$MNT/share.json"'
else skipped "full file system (needs root to mount a tmpfs)"; fi

echo "files_safe: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ] || exit 1
[ $pass = 0 ] && exit 77
exit 0
