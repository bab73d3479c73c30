#!/usr/bin/env bash
# serve_bench.sh - `tide serve` under load on loopback, keep-alive, with wrk (Debian `wrk`):
#   hit     GET /api/v1/intel/lookup of one value (the issue's figure: >= 30 000 req/s, p99 <=
#           5 ms on 2 cores); after the first request the answer comes from the lookup cache
#   spread  lookups rotating over 1 000 values of the corpus (a Lua script): the store path
#   ingest  `hit` again while a `tide ingest` into the same store runs (reads never wait for a
#           long ingest): of INGEST_BUNDLE (the issue's figure: the 1 M-indicator SPEC C10
#           reference bundle, bench/out/ref/intel/bundle.stix.json), else the corpus bundle again
#   soak    `hit` for SOAK seconds (default 600), the server's RSS sampled every 10 s: errors
#           and the memory trend are printed
# Usage: bench/serve_bench.sh [MODE...]       (default: hit spread)
# Environment: TIDE (default build/tide), N (corpus indicators, default 20000), SECONDS_RUN
#   (default 10), CONN (default 32), THREADS (wrk threads, default 2), SOAK (default 600),
#   INGEST_BUNDLE (default: the corpus bundle), TIDE_SHARED (default ../shared).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
tide=$(readlink -f "${TIDE:-$root/build/tide}")
shared=${TIDE_SHARED:-$root/../shared}
n=${N:-20000}; secs=${SECONDS_RUN:-10}; conn=${CONN:-32}; threads=${THREADS:-2}
modes=${*:-hit spread}
command -v wrk >/dev/null || { echo "serve_bench: needs wrk (apt-get install wrk)" >&2; exit 2; }
out=$here/out/serve-$n
if [ ! -f "$out/corpus/intel/bundle.stix.json" ]; then
    mkdir -p "$out"
    python3 "$shared/bench/gen_corpus.py" --out "$out/corpus" --indicators "$n" --events 1000 \
        --hosts 100 --plant 10 >/dev/null
fi
store=$(mktemp -d /tmp/tide-serve-bench.XXXXXX)
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$store"' EXIT
"$tide" --store "$store" ingest --format stix "$out/corpus/intel/bundle.stix.json" >/dev/null 2>&1
key=$("$tide" --store "$store" keys add bench --role reader --tlp-max red --json |
    python3 -c "import json,sys; print(json.load(sys.stdin)['key'])")
# values: the ipv4 / domain values of the corpus' indicators
python3 - "$out/corpus/intel/bundle.stix.json" "$store/values.txt" <<'PY'
import json, re, sys
vals = []
for o in json.load(open(sys.argv[1]))["objects"]:
    m = re.match(r"\[(ipv4-addr|domain-name):value = '([^']+)'\]$", o.get("pattern", ""))
    if m: vals.append(m.group(2))
    if len(vals) >= 1000: break
open(sys.argv[2], "w").write("\n".join(vals) + "\n")
PY
value=$(head -1 "$store/values.txt")
"$tide" --store "$store" serve --listen 127.0.0.1:0 --max-connections 4096 2>"$store/serve.log" &
pid=$!
for _ in $(seq 100); do grep -q listening "$store/serve.log" && break; sleep 0.05; done
base=$(grep -o 'http://[0-9.:]*' "$store/serve.log" | head -1)
cat >"$store/spread.lua" <<LUA
local vals = {}
for l in io.lines("$store/values.txt") do vals[#vals + 1] = l end
local i = 0
request = function()
  i = i % #vals + 1
  return wrk.format("GET", "/api/v1/intel/lookup?value=" .. vals[i], { ["Authorization"] = "Bearer $key" })
end
LUA
run() { # run LABEL [wrk args...]
    local label=$1; shift
    echo "== $label: wrk -t$threads -c$conn -d${secs}s --latency $* ($n indicators, $(nproc) cores)"
    wrk -t"$threads" -c"$conn" -d"$secs"s --latency "$@" | grep -E 'Requests/sec|Latency  |50%|99%|Non-2xx|Socket errors'
}
for m in $modes; do
    case $m in
    hit) run "lookup of one value" -H "Authorization: Bearer $key" "$base/api/v1/intel/lookup?value=$value" ;;
    spread) run "lookups over 1000 values" -s "$store/spread.lua" "$base" ;;
    ingest)
        bundle=${INGEST_BUNDLE:-$out/corpus/intel/bundle.stix.json}
        echo "(ingesting $bundle, $(du -h "$bundle" | cut -f1))"
        "$tide" --store "$store" ingest --source again --format stix "$bundle" >"$store/ingest.log" 2>&1 &
        ipid=$!
        sleep 1
        run "lookup of one value while an ingest runs" -H "Authorization: Bearer $key" "$base/api/v1/intel/lookup?value=$value"
        kill -0 $ipid 2>/dev/null && echo "(the ingest was still running at the end)" || echo "(the ingest ended during the run: use a bigger N)"
        wait $ipid && echo "(ingest: $(tail -1 "$store/ingest.log"))" || echo "(ingest failed: $(tail -1 "$store/ingest.log"))" ;;
    soak)
        soak=${SOAK:-600}
        wrk -t"$threads" -c"$conn" -d"$soak"s --latency -H "Authorization: Bearer $key" "$base/api/v1/intel/lookup?value=$value" >"$store/soak.txt" &
        wpid=$!
        : >"$store/rss.txt"
        while kill -0 $wpid 2>/dev/null; do awk '/VmRSS/ {print $2}' /proc/$pid/status >>"$store/rss.txt"; sleep 10; done
        wait $wpid || true
        echo "== soak ${soak}s"; grep -E 'Requests/sec|99%|Non-2xx|Socket errors|requests in' "$store/soak.txt"
        python3 - "$store/rss.txt" <<'PY'
import sys
v = [int(x) for x in open(sys.argv[1]) if x.strip()]
# the first minute is the warm-up (connection threads, caches, the SQLite page cache)
w = v[6:]
if len(w) >= 4:
    q = len(w) // 4
    a, b = sum(w[:q]) / q, sum(w[-q:]) / q
    print("RSS KiB after the first minute: first quarter %.0f, last quarter %.0f (%+.2f%%), min %d, max %d"
          % (a, b, 100 * (b - a) / a, min(w), max(w)))
print("RSS KiB every minute: " + " ".join(str(x) for x in v[::6]))
PY
        ;;
    *) echo "serve_bench: unknown mode $m" >&2; exit 2 ;;
    esac
done
kill -TERM $pid; wait $pid || true
