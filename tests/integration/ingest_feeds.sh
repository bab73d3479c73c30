#!/usr/bin/env bash
# ingest_feeds.sh - real feeds as a SOC engineer feeds them, through the public commands:
# maltrail's layout however the path is spelt (trailing slash, ./, ..), a family from --family /
# the layout / a header comment giving the same objects, the same list twice through different
# paths and formats changing nothing, abuse.ch CSV exports (URLhaus, ThreatFox) as published,
# real feeds' CSV vocabularies, defanged STIX pattern values, MISP domain|ip, galaxies and the
# MISP export's TLP round trip, warninglists' matching_attributes, and `tide show` with match
# semantics for every kind.
set -u
TIDE=$1; SRC=$2
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { [ "${CI:-}" = true ] && exit 1; echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-ingest-feeds.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
M=$DATA/iocs/maltrail/malware
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
types() { "$TIDE" --store "$1" stats --json | jget "d['by_type'].get('$2',0)"; }

# 1. a family from the maltrail layout, whatever the spelling of the path
mkdir -p "$W/feeds/malware" && cp "$M/emotet.txt" "$M/trickbot.txt" "$W/feeds/malware/"
"$TIDE" --store "$W/slash" ingest --no-hunt "$W/feeds/malware/" 2>/dev/null
"$TIDE" --store "$W/plain" ingest --no-hunt "$W/feeds/malware" 2>/dev/null
check "trailing slash: 2 malware objects (got $(types "$W/slash" malware))" '[ "$(types "$W/slash" malware)" = 2 ]'
check "trailing slash: as many relationships as without" \
  '[ "$(types "$W/slash" relationship)" = "$(types "$W/plain" relationship)" ] && [ "$(types "$W/plain" relationship)" -gt 10000 ]'
(cd "$W/feeds/malware" && "$TIDE" --store "$W/dot" ingest --no-hunt ./trickbot.txt 2>/dev/null)
check "./file from inside malware/: a family" '[ "$(types "$W/dot" malware)" = 1 ]'
"$TIDE" --store "$W/dotdot" ingest --no-hunt "$W/feeds/malware/../malware//emotet.txt" 2>/dev/null
check "a/../malware//file: a family" '[ "$(types "$W/dotdot" malware)" = 1 ]'
conf=$("$TIDE" --store "$W/slash" show --json 206.130.141.255:449 | jget "d['indicators'][0]['confidence']")
check "trailing slash: family confidence 80 (got $conf)" '[ "$conf" = 80 ]'

# 2. --family, the layout and a header comment give the same objects; the same list again
# through another path and --format list changes nothing
mkdir -p "$W/flat" && cp "$M/trickbot.txt" "$W/flat/tb.txt" && cp "$M/trickbot.txt" "$W/flat/trickbot.txt"
{ echo "# Family: trickbot"; cat "$M/trickbot.txt"; } >"$W/flat/hdr.txt"
"$TIDE" --store "$W/fam" ingest --no-hunt --family trickbot --source trickbot "$W/flat/tb.txt" 2>/dev/null
"$TIDE" --store "$W/hdr" ingest --no-hunt --source trickbot "$W/flat/hdr.txt" 2>/dev/null
ids() { python3 -c "
import sqlite3,sys; db=sqlite3.connect(sys.argv[1]+'/tide.db')
print(sorted(r[0] for r in db.execute('select id from objects where is_current'))==sorted(r[0] for r in sqlite3.connect(sys.argv[2]+'/tide.db').execute('select id from objects where is_current')))" "$1" "$2"; }
check "--family and '# Family:' header: the same objects" '[ "$(ids "$W/fam" "$W/hdr")" = True ]'
"$TIDE" --store "$W/lay" ingest --no-hunt "$W/feeds/malware/trickbot.txt" 2>/dev/null
"$TIDE" --store "$W/lay" ingest --no-hunt --family trickbot --source trickbot "$W/flat/tb.txt" --json >"$W/again.json" 2>/dev/null
check "the layout and --family: the same objects" 'grep -q "\"stored\":0" "$W/again.json"'
"$TIDE" --store "$W/twice" ingest --no-hunt "$W/feeds/malware/" 2>/dev/null
"$TIDE" --store "$W/twice" ingest --no-hunt --format list "$W/feeds/malware/trickbot.txt" --json >"$W/twice.json" 2>/dev/null
check "auto-detected folder, then --format list file: nothing new" 'grep -q "\"stored\":0" "$W/twice.json"'
n=$("$TIDE" --store "$W/twice" show --json 206.130.141.255:449 | jget "len(d['indicators'])")
check "one indicator per value after both (got $n)" '[ "$n" = 1 ]'

# 3. abuse.ch CSV exports as published
cat >"$W/urlhaus.csv" <<'EOF'
################################################################
# abuse.ch URLhaus Database Dump (CSV - recent URLs only)      #
# Last updated: 2026-08-22 11:08:11 (UTC)                      #
#                                                              #
# Terms Of Use: https://urlhaus.abuse.ch/api/                  #
# For questions please contact urlhaus [at] abuse.ch           #
################################################################
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
"3301234","2026-08-22 11:05:04","http://182.117.30.52:43567/i","online","2026-08-22 11:05:04","malware_download","32-bit,elf,mips,Mozi","https://urlhaus.abuse.ch/url/3301234/","geenensp"
"3301233","2026-08-22 11:04:09","https://evil-cdn.example.net/payload/x.exe","online","2026-08-22 11:04:09","malware_download","exe,RemcosRAT","https://urlhaus.abuse.ch/url/3301233/","abuse_ch"
"3301232","2026-08-22 11:03:00","http://45.95.147.236/bins/sora.arm7","offline","","malware_download","elf,mirai","https://urlhaus.abuse.ch/url/3301232/","lrz_urlhaus"
# END
EOF
cat >"$W/threatfox.csv" <<'EOF'
################################################################
# ThreatFox IOCs: CSV export                                   #
# Last updated: 2026-08-22 11:00:03 UTC                        #
#                                                              #
# Terms Of Use: https://threatfox.abuse.ch/faq/#tos            #
# For questions please contact threatfox [at] abuse.ch         #
################################################################
#
# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware","malware_alias","malware_printable","last_seen_utc","confidence_level","reference","tags","anonymous","reporter"
"2026-08-22 10:58:01", "1559371", "45.95.147.236:7000", "ip:port", "botnet_cc", "win.xworm", "None", "XWorm", "", "100", "None", "xworm", "0", "abuse_ch"
"2026-08-22 10:41:12", "1559370", "update-checker.example.org", "domain", "botnet_cc", "win.lumma", "LummaStealer", "Lumma Stealer", "", "75", "None", "Lumma", "0", "Anon"
"2026-08-22 10:40:00", "1559369", "d8b7a4c6f31f4e8e3f1e0ad0e57b2b4f6a6cf9d4b3c2e2a1f0e9d8c7b6a5f4e3", "sha256_hash", "payload", "unknown", "None", "Unknown malware", "", "50", "None", "None", "0", "abuse_ch"
EOF
"$TIDE" --store "$W/abuse" ingest --no-hunt "$W/urlhaus.csv" "$W/threatfox.csv" 2>"$W/abuse.err"; rc=$?
check "URLhaus + ThreatFox CSV: exit 0, 6 indicators, nothing rejected (rc $rc: $(head -1 "$W/abuse.err"))" \
  '[ $rc = 0 ] && grep -q "(6 indicators), 0 unchanged, 0 rejected" "$W/abuse.err"'
check "URLhaus: the URLs are indicators" '"$TIDE" --store "$W/abuse" show http://182.117.30.52:43567/i >/dev/null && "$TIDE" --store "$W/abuse" show https://evil-cdn.example.net/payload/x.exe >/dev/null'
check "ThreatFox: malware objects XWorm and Lumma Stealer, no campaign" \
  '[ "$(types "$W/abuse" malware)" = 2 ] && [ "$(types "$W/abuse" campaign)" = 0 ] && "$TIDE" --store "$W/abuse" show 45.95.147.236:7000 | grep -q "indicates malware--.*(XWorm)"'
check "ThreatFox: 'Unknown malware' names no family" '! "$TIDE" --store "$W/abuse" show d8b7a4c6f31f4e8e3f1e0ad0e57b2b4f6a6cf9d4b3c2e2a1f0e9d8c7b6a5f4e3 | grep -q indicates'
printf 'value,type,malware\nfam.example.com,domain,AgentTesla\n' >"$W/fam.csv"
"$TIDE" --store "$W/famcsv" ingest --no-hunt "$W/fam.csv" 2>/dev/null
check "a malware column makes a malware object" '[ "$(types "$W/famcsv" malware)" = 1 ] && [ "$(types "$W/famcsv" campaign)" = 0 ]'

# 4. real feeds' vocabularies: type names, several hashes in a file field, BOM, no header
printf '\xef\xbb\xbfevil-voc.example.com,hostname\n198.51.100.0/24,ipaddress\n203.0.113.9,ipaddress\nphish@evil-voc.example.com,email-sender\nevil.exe|d41d8cd98f00b204e9800998ecf8427f|da39a3ee5e6b4b0d3255bfef95601890afd80708,file\nc2.voc.example|192.0.2.77,domain|ip\n' >"$W/voc.csv"
"$TIDE" --store "$W/voc" ingest --no-hunt "$W/voc.csv" 2>"$W/voc.err"; rc=$?
check "vocabulary CSV without a header: exit 0 (rc $rc: $(head -1 "$W/voc.err"))" '[ $rc = 0 ]'
for v in evil-voc.example.com 203.0.113.9 phish@evil-voc.example.com d41d8cd98f00b204e9800998ecf8427f da39a3ee5e6b4b0d3255bfef95601890afd80708 c2.voc.example 192.0.2.77; do
  check "vocabulary: $v is an indicator" '"$TIDE" --store "$W/voc" show "$v" >/dev/null 2>&1'
done
cat >"$W/defang.json" <<'EOF'
{"type":"bundle","id":"bundle--0d3c8a2e-2a5e-4c4f-9d6b-2f0e0b7b6a01","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--11111111-2a5e-4c4f-9d6b-2f0e0b7b6a01","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","valid_from":"2026-01-01T00:00:00Z","pattern_type":"stix","pattern":"[url:value = 'hxxp://evil[.]example/a.php']"},
{"type":"indicator","spec_version":"2.1","id":"indicator--22222222-2a5e-4c4f-9d6b-2f0e0b7b6a01","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","valid_from":"2026-01-01T00:00:00Z","pattern_type":"stix","pattern":"[domain-name:value = 'bad[.]example[.]org']"},
{"type":"indicator","spec_version":"2.1","id":"indicator--33333333-2a5e-4c4f-9d6b-2f0e0b7b6a01","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","valid_from":"2026-01-01T00:00:00Z","pattern_type":"stix","pattern":"[ipv4-addr:value = '10.20.30[.]400']"}
]}
EOF
"$TIDE" --store "$W/defang" ingest --no-hunt "$W/defang.json" 2>"$W/defang.err"
check "defanged URL in a pattern: indexed refanged" '"$TIDE" --store "$W/defang" show http://evil.example/a.php | grep -q indicator--11111111'
check "defanged domain in a pattern: indexed refanged" '"$TIDE" --store "$W/defang" show bad.example.org | grep -q indicator--22222222'
check "defanged value that refangs to nothing valid: rejected with the reason" 'grep -q "defang.json:4.*10.20.30\[.\]400.*not a valid ipv4" "$W/defang.err"'

# 5. MISP: domain|ip keeps both values, galaxies attribute, the export keeps TLP
cat >"$W/dip.json" <<'EOF'
{"Event":{"uuid":"5a3c0000-1111-4222-8333-444455556666","info":"domain|ip test","date":"2026-11-01","timestamp":"1793000000","Tag":[{"name":"tlp:green"}],
"Attribute":[{"uuid":"5a3c0000-1111-4222-8333-444455556601","type":"domain|ip","category":"Network activity","to_ids":true,"value":"c2.evil-dip.example|203.0.113.77","timestamp":"1793000000"}]}}
EOF
"$TIDE" --store "$W/misp" ingest --no-hunt "$W/dip.json" 2>/dev/null
check "MISP domain|ip: the domain" '"$TIDE" --store "$W/misp" show c2.evil-dip.example >/dev/null'
check "MISP domain|ip: the address" '"$TIDE" --store "$W/misp" show 203.0.113.77 >/dev/null'
EV=$DATA/misp/pymisp/tests/mispevent_testfiles/existing_event.json
"$TIDE" --store "$W/gal" ingest --no-hunt "$EV" 2>/dev/null
n=$("$TIDE" --store "$W/gal" search --type indicator --related Sofacy --limit 1000 | wc -l)
check "MISP event galaxy threat actor Sofacy: its indicators are related (got $n)" '[ "$n" -gt 5 ]'
n=$("$TIDE" --store "$W/gal" search --type indicator --related GAMEFISH --limit 1000 | wc -l)
check "MISP event galaxy tool GAMEFISH: its indicators are related (got $n)" '[ "$n" -gt 5 ]'
n=$("$TIDE" --store "$W/gal" search --type indicator --related JHUHUGIT --limit 1000 | wc -l)
check "MISP event galaxy malware JHUHUGIT: its indicators are related (got $n)" '[ "$n" -gt 5 ]'
printf '185.220.101.45\nevil-rt.example.com\n' >"$W/rt.txt"
"$TIDE" --store "$W/rt" ingest --no-hunt --tlp amber "$W/rt.txt" 2>/dev/null
"$TIDE" --store "$W/rt" export --format misp --output "$W/rt.misp.json" 2>/dev/null
check "MISP export: TLP tag and organisation" 'grep -q "tlp:amber" "$W/rt.misp.json" && grep -q "\"Orgc\"" "$W/rt.misp.json"'
"$TIDE" --store "$W/rt2" ingest --no-hunt "$W/rt.misp.json" 2>/dev/null
check "MISP export -> ingest keeps TLP amber" '"$TIDE" --store "$W/rt2" show evil-rt.example.com | grep -q "TLP amber"'

# 6. warninglists honour matching_attributes
L=$DATA/misp/misp-warninglists/lists
"$TIDE" --store "$W/wl" warninglist load "$L/phone_numbers" "$L/disposable-email" "$L/google" >/dev/null 2>&1
H=0000000000000000000000000000000000000000000000000000000055501120
check "phone-number regex list does not suppress a SHA-256" '"$TIDE" --store "$W/wl" warninglist check "$H" | grep -q "not listed"'
check "disposable-email list does not suppress a domain" '"$TIDE" --store "$W/wl" warninglist check 0-mail.com | grep -q "not listed"'
check "disposable-email list still covers an address" '"$TIDE" --store "$W/wl" warninglist check bob@0-mail.com | grep -q warninglisted'
check "a hostname list still covers its names" '"$TIDE" --store "$W/wl" warninglist check www.google.com | grep -q warninglisted'

# 7. tide show with match semantics, every kind
"$TIDE" --store "$W/show" ingest --no-hunt --source firehol "$DATA/iocs/firehol/spamhaus_drop.netset" 2>/dev/null
"$TIDE" --store "$W/show" ingest --no-hunt "$M/trickbot.txt" 2>/dev/null
net=$(grep -v '^#' "$DATA/iocs/firehol/spamhaus_drop.netset" | grep '/2[0-4]$' | head -1)
addr=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_network(sys.argv[1])[77])" "$net")
check "show $addr: the CIDR $net covering it" '"$TIDE" --store "$W/show" show "$addr" | grep -q "matches     cidr4 $net"'
dom=$(grep -v '^#' "$M/trickbot.txt" | grep -E '^[a-z0-9-]+\.[a-z]+$' | head -1)
check "show sub.$dom: the parent domain $dom" '"$TIDE" --store "$W/show" show "deep.sub.$dom" | grep -q "matches     domain $dom"'
check "show hxxp URL on a listed host: the host's indicator" '"$TIDE" --store "$W/show" show "hxxp://x.$dom/a" | grep -q "domain $dom"'
cat >"$W/fp.json" <<'EOF'
{"type":"bundle","id":"bundle--0d3c8a2e-2a5e-4c4f-9d6b-2f0e0b7b6a02","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--44444444-2a5e-4c4f-9d6b-2f0e0b7b6a01","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","valid_from":"2026-01-01T00:00:00Z","pattern_type":"stix","pattern":"[network-traffic:extensions.'x-ja3'.hash = '72a589da586844d7f0818ce684948eea']"},
{"type":"indicator","spec_version":"2.1","id":"indicator--55555555-2a5e-4c4f-9d6b-2f0e0b7b6a01","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","valid_from":"2026-01-01T00:00:00Z","pattern_type":"stix","pattern":"[x509-certificate:hashes.'SHA-1' = '6e8a1c7d7e3b1f2a9c0d4e5f60718293a4b5c6d7']"}
]}
EOF
"$TIDE" --store "$W/show" ingest --no-hunt "$W/fp.json" 2>/dev/null
check "show a JA3 fingerprint" '"$TIDE" --store "$W/show" show 72a589da586844d7f0818ce684948eea | grep -q indicator--44444444'
check "show an x509 fingerprint" '"$TIDE" --store "$W/show" show 6e8a1c7d7e3b1f2a9c0d4e5f60718293a4b5c6d7 | grep -q indicator--55555555'
check "show an x509 fingerprint written aa:bb:..." '"$TIDE" --store "$W/show" show 6E:8A:1C:7D:7E:3B:1F:2A:9C:0D:4E:5F:60:71:82:93:A4:B5:C6:D7 | grep -q indicator--55555555'
"$TIDE" --store "$W/show" ingest --no-hunt --source now "$W/rt.txt" 2>/dev/null
check "show right after ingest: active, not 'not yet valid'" '"$TIDE" --store "$W/show" show evil-rt.example.com | grep -q "(active"'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
