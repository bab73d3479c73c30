#!/usr/bin/env bash
# serve_robust.sh - `tide serve` under slow clients: 300 idle connections and 100 that send
# their request a byte at a time (slowloris), while a normal client keeps asking (health and
# an authenticated lookup on real intel): every one of its requests must be answered within
# its 5 s timeout. Idle connections are closed by --timeout, trickling ones by --request-timeout (the
# head's deadline), and the server is back to no request in flight afterwards. Then the
# connection cap: past --max-connections new connections are refused, and served again once
# the others go.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA/iocs" ]; then
    [ "${CI:-}" = true ] && { echo "FAIL $DATA/iocs missing (CI=true)"; exit 1; }
    echo "skipped: $DATA/iocs missing"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-serve-robust.XXXXXX)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
. "$SRC/tests/integration/lib/serve_common.bash"
trap 'serve_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
ulimit -n 4096 2>/dev/null
S=$W/s
"$TIDE" --store "$S" ingest --tlp clear --source firehol "$DATA/iocs/firehol/firehol_level1.netset" >/dev/null 2>&1
K=$(key "$S" reader reader red)
serve_start "$S" --timeout 4 --request-timeout 6 --max-connections 1000
python3 - "$BASE" "$K" >"$W/slow.txt" <<'PY'
import socket, sys, threading, time, urllib.request
base, key = sys.argv[1], sys.argv[2]
host, port = base.split("//")[1].split(":"); port = int(port)
idle, slow, closed = [], [], {"idle": 0, "slow": 0}
for _ in range(300):
    s = socket.create_connection((host, port)); idle.append(s)
req = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200 + b"\r\n\r\n"
for _ in range(100):
    s = socket.create_connection((host, port)); s.setblocking(False); slow.append([s, 0])
stop = False
def trickle():
    while not stop:
        for e in slow:
            s, i = e
            if s is None or i >= len(req): continue
            try:
                s.send(req[i:i + 1]); e[1] += 1
            except OSError:
                e[0] = None; closed["slow"] += 1
        time.sleep(0.5)
t = threading.Thread(target=trickle); t.start()
lat, errors = [], 0
t0 = time.time()
while time.time() - t0 < 10:
    for path, auth in (("/api/v1/health", None), ("/api/v1/intel/lookup?value=1.10.16.77", key)):
        r = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + auth} if auth else {})
        a = time.time()
        try:
            with urllib.request.urlopen(r, timeout=5) as resp:
                if resp.status != 200: errors += 1
                resp.read()
        except Exception as e:
            errors += 1
        lat.append(time.time() - a)
    time.sleep(0.1)
stop = True; t.join()
for s in idle:
    s.settimeout(0.01)
    try:
        if s.recv(1) == b"": closed["idle"] += 1
    except socket.timeout: pass
    except OSError: closed["idle"] += 1
lat.sort()
print("requests %d errors %d max %.3f p99 %.3f idle_closed %d slow_closed %d" % (len(lat), errors, lat[-1], lat[int(len(lat) * 0.99) - 1], closed["idle"], closed["slow"]))
PY
cat "$W/slow.txt"
read -r _ n _ err _ max _ p99 _ ic _ sc <"$W/slow.txt"
check "a normal client among 400 slow connections: $n requests, all answered" '[ "${n:-0}" -gt 20 ] && [ "$err" = 0 ]'
check "... each within its 5 s timeout (max ${max}s)" 'python3 -c "import sys; sys.exit(0 if float(\"$max\") < 5 else 1)"'
check "idle connections closed by --timeout ($ic of 300)" '[ "${ic:-0}" -ge 290 ]'
check "byte-at-a-time connections cut at --request-timeout ($sc of 100)" '[ "${sc:-0}" -ge 90 ]'
sleep 1
check "no request left in flight" '[ "$(code "$K" GET /api/v1/stats >/dev/null; curl -s -H "Authorization: Bearer $(key "$S" adm admin red)" "$BASE/api/v1/metrics" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"server\"][\"in_flight\"])")" = 1 ]'
# a body that trickles in (headers sent, then a byte every 0.5 s): closed after
# --request-timeout, when it averages under 1 KiB/s
python3 - "$BASE" "$(key "$S" writer analyst red)" >"$W/body.txt" <<'PY'
import socket, sys, time
base, key = sys.argv[1], sys.argv[2]
host, port = base.split("//")[1].split(":"); port = int(port)
s = socket.create_connection((host, port))
s.sendall(("POST /api/v1/intel?format=list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           "Content-Length: 100000\r\n\r\n" % key).encode())
t0, closed = time.time(), False
while time.time() - t0 < 20:
    try:
        s.send(b"1")
        s.settimeout(0.5)
        try:
            if s.recv(1024) == b"": closed = True; break
        except socket.timeout: pass
    except OSError:
        closed = True; break
print("closed %d after %.0f s" % (closed, time.time() - t0))
PY
read -r _ bc _ bs _ <"$W/body.txt"
check "a trickling body is cut after --request-timeout, not before ($(cat "$W/body.txt"))" '[ "$bc" = 1 ] && [ "${bs:-0}" -ge 5 ]'
check "... and the server says why" 'grep -q "under 1 KiB/s" "$W/serve.log"'
serve_stop
check "SIGTERM: exit 0" '[ "$SERVE_RC" = 0 ]'

# the connection cap
serve_start "$S" --max-connections 20
python3 - "$BASE" >"$W/cap.txt" <<'PY'
import socket, sys, time, urllib.request
base = sys.argv[1]
host, port = base.split("//")[1].split(":"); port = int(port)
hold = [socket.create_connection((host, port)) for _ in range(20)]
time.sleep(0.5)
try:
    urllib.request.urlopen(base + "/api/v1/health", timeout=2).read(); refused = 0
except Exception:
    refused = 1
for s in hold: s.close()
time.sleep(0.5)
ok = urllib.request.urlopen(base + "/api/v1/health", timeout=5).status == 200
print("refused %d served_after %d" % (refused, ok))
PY
check "past --max-connections a new connection is refused, then served once they go ($(cat "$W/cap.txt"))" '[ "$(cat "$W/cap.txt")" = "refused 1 served_after 1" ]'
serve_stop
echo "serve_robust: $pass passed, $fail failed"
[ "$fail" = 0 ]
