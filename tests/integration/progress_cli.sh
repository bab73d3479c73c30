#!/usr/bin/env bash
# progress_cli.sh - long work shows progress on a terminal and stays quiet otherwise (issue 16):
#  - on a terminal (a pseudo-terminal from python3's pty module), `tide ingest` of the real ipsum
#    list, `tide match` and `tide history import` of the real Sysmon logs draw one line on
#    stderr with '\r': done / total MB with %, and a rate; stdin (a pipe, size unknown) gives
#    the MB read and a rate, no total; the line is erased before the summary;
#  - stderr not a terminal: not one byte of it (no '\r', no escape), the same as with
#    --no-progress but for the timings; --progress forces the line, --no-progress and --quiet
#    keep a terminal quiet.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
# a line at every clock check (every few hundred records), not every 0.25 s: the inputs here
# take less than that to read on a fast machine
export TIDE_PROGRESS_INTERVAL=0
W=$(mktemp -d /tmp/tide-progress.XXXXXX); trap "[ -n \"${KEEP:-}\" ] || rm -rf $W" EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
cd "$W"
SY=$DATA/sysmon/otrf-security-datasets
SYF=$(ls "$SY"/*.json | sort)
IPS=$DATA/iocs/ipsum/ipsum.txt IPS3=$DATA/iocs/ipsum/levels_3.txt
# tty OUT CMD...: run CMD with stdin, stdout and stderr on a pseudo-terminal, everything it
# wrote to it in OUT (python3's pty module; a STDIN_FILE in the environment is trickled in
# through a pipe instead, 64 KiB every 20 ms, so that stdin is a pipe of unknown size)
cat >runpty.py <<'PY'
import os, pty, sys, time, threading
out, args = sys.argv[1], sys.argv[2:]
feed = os.environ.get("STDIN_FILE")
if feed:
    r, w = os.pipe()
pid, fd = pty.fork()
if pid == 0:
    if feed:
        os.dup2(r, 0)
        os.close(w)
    os.execv(args[0], args)
if feed:
    os.close(r)
    def trickle():
        with open(feed, "rb") as f:
            while True:
                b = f.read(65536)
                if not b:
                    break
                os.write(w, b)
                time.sleep(0.02)
        os.close(w)
    threading.Thread(target=trickle, daemon=True).start()
data = b""
while True:
    try:
        d = os.read(fd, 65536)
    except OSError:
        break
    if not d:
        break
    data += d
_, st = os.waitpid(pid, 0)
open(out, "wb").write(data)
sys.exit(os.waitstatus_to_exitcode(st))
PY
# the progress lines of a captured terminal: "\rtide VERB: ..." up to the erase
lines() { python3 -c "
import re, sys
d = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
for m in re.findall(r'\r(tide [a-z]+: [^\r\n]*?)\x1b\[K', d): print(m)" "$1" 2>/dev/null; }
has_total() { lines "$1" | grep -qE "^tide $2:( $3)? [0-9.]+ / [0-9.]+ MB \([0-9]+%\), .*[0-9.]+ (MB|k?objects|k?events)/?s?"; }
rate() { lines "$1" | grep -qE ", [0-9.]+ MB/s"; }
erased() { python3 -c "
import sys
d = open(sys.argv[1], 'rb').read()
i = d.rfind(b'\x1b[K')
sys.exit(0 if d.rfind(b'\r\x1b[K') == i - 1 and d.rfind(sys.argv[2].encode()) > i else 1)" "$1" "$2"; }

# ---- on a terminal ----
S="--store $W/t"
python3 runpty.py ingest.tty "$TIDE" $S ingest "$IPS"
check "tty: ingest draws done / total MB (%) and a rate" 'has_total ingest.tty ingest "" && rate ingest.tty'
check "tty: ingest erases the line before its summary" 'erased ingest.tty "ingested 1 file(s)"'
python3 runpty.py match.tty "$TIDE" $S match --no-store $SYF
check "tty: match draws done / total MB (%) and a rate" 'has_total match.tty match "" && rate match.tty'
check "tty: match erases the line before its summary" 'erased match.tty "tide match: 6 file(s)"'
python3 runpty.py import.tty "$TIDE" --store "$W/h" history import $SYF
check "tty: history import draws done / total MB (%) and a rate" 'has_total import.tty history import && rate import.tty'
python3 runpty.py export.tty "$TIDE" $S export --format txt --min-score 0 --output export.txt
check "tty: export draws indicators considered and a rate, then erases the line" 'lines export.tty | grep -qE "^tide export: [0-9.]+ k?indicators, [0-9.]+ k?/s$" && erased export.tty "tide export:"'
STDIN_FILE=$SY/empire_launcher_vbs_2020-09-04160940.json python3 runpty.py stdin.tty "$TIDE" $S match --no-store -
check "tty: match of stdin (a pipe) shows MB read and a rate, no total" 'lines stdin.tty | grep -qE "^tide match: [0-9.]+ MB, [0-9]+ events, [0-9.]+ MB/s$" && ! lines stdin.tty | grep -q " / "'
python3 runpty.py quiet.tty "$TIDE" $S match --no-store --quiet $SYF
python3 runpty.py noprog.tty "$TIDE" --no-progress $S match --no-store $SYF
check "tty: --quiet and --no-progress draw nothing" 'grep -q "tide match: 6 file(s)" noprog.tty && [ -z "$(lines quiet.tty)" ] && [ -z "$(lines noprog.tty)" ] && ! grep -q $'"'"'\x1b'"'"' noprog.tty quiet.tty'

# ---- stderr not a terminal ----
mask() { sed -E 's/[0-9]+(\.[0-9]+)?/N/g' "$1"; }
"$TIDE" --store "$W/n1" ingest "$IPS3" >/dev/null 2>ingest.err
"$TIDE" --store "$W/n2" ingest --no-progress "$IPS3" >/dev/null 2>ingest-np.err
"$TIDE" --store "$W/t" match --no-store $SYF >/dev/null 2>&1 # the index is cached: both load it
"$TIDE" --store "$W/t" match --no-store $SYF >/dev/null 2>match.err
"$TIDE" --store "$W/t" match --no-store --no-progress $SYF >/dev/null 2>match-np.err
"$TIDE" --store "$W/n3" history import $SYF >/dev/null 2>import.err
check "not a tty: no carriage return or escape on stderr" '! grep -q $'"'"'[\r\x1b]'"'"' ingest.err match.err import.err'
check "not a tty: stderr as with --no-progress (timings aside)" '[ "$(mask ingest.err)" = "$(mask ingest-np.err)" ] && [ "$(mask match.err)" = "$(mask match-np.err)" ]'
check "not a tty: history import stderr is its summary lines only" '! grep -qv "^tide history: " import.err'
"$TIDE" --store "$W/t" match --no-store --progress $SYF >/dev/null 2>forced.err
check "not a tty: --progress forces the line" 'has_total forced.err match ""'
echo "progress_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
