#!/usr/bin/env bash
# export_ports.sh - ip:port indicators reach the controls that can carry them (issue 16): the
# real C2 lists of maltrail (trickbot, emotet: mostly ip:port) exported to nftables
# (concatenated sets, checked by nft and by dropping a real connection in a network namespace),
# ipset (hash:ip,port) and Suricata (tcp / udp rules per port); rpz, zeek and squid leave them
# out with the reason. The plan of the real trickbot case (Zeek capture) blocks the C2s seen.
# --incremental writes the diff beside the full file, never over it.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-export-ports.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0; skip=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
need() {
  for t in "$@"; do
    if ! command -v "$t" >/dev/null 2>&1; then
      if [ "${CI:-}" = true ]; then fail=$((fail+1)); echo "FAIL $t not installed (CI=true)"
      else skip=$((skip+1)); echo "skip $t not installed"; fi
      return 1
    fi
  done
}
M=$DATA/iocs/maltrail/malware
export TIDE_HOME=$W/store
"$TIDE" ingest --format list "$M/trickbot.txt" "$M/emotet.txt" >/dev/null 2>&1
check "ingest trickbot + emotet" '[ $? = 0 ]'
# the ip:port trails of the two files whose address is not also listed alone
python3 - "$M/trickbot.txt" "$M/emotet.txt" >"$W/pairs.txt" <<'PY'
import re, sys
pairs, addrs = set(), set()
for f in sys.argv[1:]:
    for line in open(f, encoding="utf-8", errors="replace"):
        t = line.split("#")[0].strip()
        m = re.fullmatch(r"(\d+\.\d+\.\d+\.\d+):(\d+)", t)
        if m and 0 < int(m.group(2)) < 65536:
            pairs.add((m.group(1), int(m.group(2))))
            continue
        m = re.fullmatch(r"(?:https?://)?(\d+\.\d+\.\d+\.\d+)/?", t)
        if m:  # an address alone (or a URL that is only an address): blocked whole
            addrs.add(m.group(1))
for a, p in sorted(pairs):
    if a not in addrs and not a.startswith(("10.", "127.", "192.168.", "0.")):
        print(a, p)
PY
npairs=$(wc -l <"$W/pairs.txt")
check "the lists hold ip:port C2s ($npairs)" '[ "$npairs" -gt 1000 ]'

# ---- nft: concatenated sets
"$TIDE" export --format nft --output "$W/c2.nft" 2>"$W/nft.err"
python3 - "$W/c2.nft" "$W/pairs.txt" >"$W/nft.check" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"set tide_v4_port \{\s*type ipv4_addr \. inet_service\s*elements = \{([^}]*)\}", text)
got = set()
if m:
    for el in m.group(1).split(","):
        a, p = [s.strip() for s in el.strip().split(" . ")]
        got.add((a, int(p)))
want = {(a, int(p)) for a, p in (l.split() for l in open(sys.argv[2]))}
print(len(want - got), "missing of", len(want))
sys.exit(0 if want and want <= got else 1)
PY
rc=$?
check "nft: every ip:port C2 in tide_v4_port ($(cat "$W/nft.check"))" '[ $rc = 0 ]'
check "nft: rules drop the pairs on TCP and UDP" 'grep -q "meta l4proto { tcp, udp } ip daddr . th dport @tide_v4_port counter drop" "$W/c2.nft"'
read -r ip port < <(head -1 "$W/pairs.txt")
other=$((port == 65535 ? port - 1 : port + 1))
check "nft: the address alone is not blocked ($ip)" '! grep -Eq "(\{ |, )$ip(,| \})" <(sed -n "/set tide_v4 {/,/}/p" "$W/c2.nft")'
if need nft unshare; then
  check "nft -c accepts the export" 'unshare -n nft -c -f "$W/c2.nft"'
  # a real connection to the C2 pair is dropped, the same address on another port is not
  cat >"$W/try.py" <<'PY'
import socket, sys
ip, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
ls = []
for p in ports:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, p)); s.listen(); ls.append(s)
def attempt(p):
    c = socket.socket(); c.settimeout(1)
    try:
        c.connect((ip, p)); return "open"
    except OSError:
        return "blocked"
    finally:
        c.close()
print(" ".join(attempt(p) for p in ports))
PY
  cat >"$W/conn.sh" <<SH
set -e
ip link set lo up
ip addr add $ip/32 dev lo
python3 $W/try.py $ip $port $other >$W/before.txt
nft -f $W/c2.nft
python3 $W/try.py $ip $port $other >$W/after.txt
SH
  if unshare -rn true 2>/dev/null && command -v ip >/dev/null; then
    unshare -rn bash "$W/conn.sh" 2>"$W/conn.err"
    check "netns: $ip:$port reachable before, dropped after nft -f; port $other still open" '[ "$(cat "$W/before.txt" 2>/dev/null)" = "open open" ] && [ "$(cat "$W/after.txt" 2>/dev/null)" = "blocked open" ]'
  else
    skip=$((skip+1)); echo "skip no user + network namespace"
  fi
fi

# ---- ipset: hash:ip,port, TCP and UDP
"$TIDE" export --format ipset --output "$W/c2.ipset" 2>/dev/null
check "ipset: hash:ip,port sets" 'grep -q "^create tide_v4_port hash:ip,port family inet " "$W/c2.ipset" && grep -q "^create tide_v6_port hash:ip,port family inet6 " "$W/c2.ipset"'
check "ipset: $ip:$port for tcp and udp" 'grep -qx "add tide_v4_port $ip,tcp:$port" "$W/c2.ipset" && grep -qx "add tide_v4_port $ip,udp:$port" "$W/c2.ipset"'
check "ipset: one tcp line per pair" '[ "$(grep -c "^add tide_v4_port .*,tcp:" "$W/c2.ipset")" -ge "$npairs" ]'

# ---- suricata: rules per port
"$TIDE" export --format suricata --output "$W/sur" 2>/dev/null
check "suricata: a tcp rule with $ip on port $port" 'grep -E "^alert tcp any any -> \[([0-9.]+,)*$ip(,[0-9.]+)*\] $port \(" "$W/sur/tide.rules" | grep -q "sid:"'
check "suricata: rules are well formed (address lists of <= 100, one sid each, sids unique)" 'python3 - "$W/sur/tide.rules" <<PY
import re, sys, collections
sids = collections.Counter()
n = 0
for l in open(sys.argv[1]):
    if l.startswith("#") or not l.strip(): continue
    m = re.fullmatch(r"alert (\w+) any any -> (\S+) (\S+) \((.*)\)\n", l)
    assert m, l
    sid = re.search(r"sid:(\d+); rev:1;$", m.group(4)); assert sid, l
    sids[sid.group(1)] += 1
    if m.group(1) in ("tcp", "udp") and m.group(2).startswith("["):
        addrs = m.group(2)[1:-1].split(",")
        assert 1 <= len(addrs) <= 100 and 1 <= int(m.group(3)) <= 65535, l
        n += 1
assert n > 0 and max(sids.values()) == 1
PY'

# ---- formats that cannot carry a port say so
"$TIDE" export --format rpz --explain --output "$W/c2.rpz" 2>"$W/rpz.err"
check "rpz: ip:port left out, reason named" 'grep -q "^left out: $ip:$port (ip-port): unsupported by format: the format cannot carry a port" "$W/rpz.err" && grep -Eq "^  [0-9]+ ip-port unsupported by rpz: it cannot carry a port" "$W/rpz.err"'
"$TIDE" export --format zeek --output "$W/c2.zeek" 2>"$W/zeek.err"
check "zeek: ip:port counted as left out with the reason" 'grep -Eq "^  [0-9]+ ip-port unsupported by zeek: it cannot carry a port" "$W/zeek.err" && ! grep -q "$ip:$port" "$W/c2.zeek"'

# ---- --incremental: the diff beside the full file
"$TIDE" export --format nft --output "$W/inc.nft" 2>/dev/null
cp "$W/inc.nft" "$W/inc1.nft"
printf '# Reference: tide test\n45.155.249.17:4433\n[2a0e:97c0:3e3::12]:8443\n' >"$W/new.txt"
"$TIDE" ingest --format list --source c2test "$W/new.txt" >/dev/null 2>&1
"$TIDE" export --format nft --incremental --output "$W/inc.nft" 2>"$W/inc.err"
check "incremental: OUTPUT is still the full export" 'grep -q "^table inet tide {" "$W/inc.nft" && grep -q "45.155.249.17 . 4433" "$W/inc.nft" && grep -q "$ip . $port" "$W/inc.nft"'
check "incremental: OUTPUT.diff holds the added pairs only" 'grep -qx "add element inet tide tide_v4_port { 45.155.249.17 . 4433 }" "$W/inc.nft.diff" && grep -qx "add element inet tide tide_v6_port { 2a0e:97c0:3e3::12 . 8443 }" "$W/inc.nft.diff" && ! grep -q "$ip" "$W/inc.nft.diff"'
check "incremental: summary counts" 'grep -q "incremental: 2 added, 0 removed" "$W/inc.err"'
"$TIDE" export --format ipset --incremental --output "$W/inc.ipset" 2>/dev/null
check "ipset incremental, first time: the full file at OUTPUT and OUTPUT.diff" 'grep -q "^create tide_v4_port" "$W/inc.ipset" && cmp -s "$W/inc.ipset" "$W/inc.ipset.diff"'
if need nft unshare; then
  setof() { unshare -n bash -c "for f in $*; do nft -f \$f || exit 1; done; nft list set inet tide tide_v4_port; nft list set inet tide tide_v6_port" | tr -d ' \t\n' | sed 's/}.*elements={/ /g'; }
  a=$(setof "$W/inc1.nft" "$W/inc.nft.diff"); b=$(setof "$W/inc.nft")
  check "nft: previous full + OUTPUT.diff equals the new full export (netns)" '[ -n "$a" ] && [ "$a" = "$b" ] && unshare -n nft -c -f "$W/inc.nft"'
fi

# ---- the plan of the real trickbot case blocks the C2s actually seen
S="--store $W/tb"
Z=$DATA/zeek/trickbot-2018-11-09/conn.log
"$TIDE" $S ingest --format list "$M/trickbot.txt" >/dev/null 2>&1
"$TIDE" $S match --no-history "$Z" >/dev/null 2>&1
"$TIDE" $S sightings --json >"$W/tb-sightings.jsonl" 2>/dev/null
sid=$(head -1 "$W/tb-sightings.jsonl" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
cid=$("$TIDE" $S case open --sighting "$sid" 2>/dev/null)
"$TIDE" $S case show "$cid" --json >"$W/tb-case.json" 2>/dev/null
cmd=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print("; ".join(a["command"] for a in d["plan"] if a["action"].startswith("block") and "nft" in (a.get("command") or "")))' "$W/tb-case.json")
check "trickbot case: a firewall block action with a tide export command" '[ -n "$cmd" ]'
(cd "$W" && eval "${cmd//tide /\"$TIDE\" $S }") >/dev/null 2>&1
nftf=$(ls "$W"/case-*.nft 2>/dev/null | head -1)
check "trickbot case: the plan's nft export blocks every ip:port C2 seen" 'python3 - "$W/tb-sightings.jsonl" "$nftf" <<PY
import json, re, sys
seen = {d["indicator"] for d in map(json.loads, open(sys.argv[1])) if d["type"] == "ip-port"}
text = open(sys.argv[2]).read()
els = {e.replace(" . ", ":").strip() for m in re.finditer(r"elements = \{([^}]*)\}", text) for e in m.group(1).split(",")}
print(len(seen), "C2 pairs seen,", len(seen - els), "not blocked")
sys.exit(0 if seen and seen <= els else 1)
PY'

echo "export_ports: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] || exit 1
[ "$pass" -eq 0 ] && exit 77
exit 0
