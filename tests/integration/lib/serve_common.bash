# serve_common.bash - what the tests of `tide serve` (tests/integration/serve_*.sh) share:
# start a server on an ephemeral loopback port (`--listen 127.0.0.1:0`; the port comes from its
# "listening on URL" line), make keys, call it with curl, stop it with SIGTERM.
# Sourced after TIDE, W (a scratch folder) and check() are set.

command -v curl >/dev/null || { [ "${CI:-}" = true ] && { echo "FAIL no curl (CI=true)"; exit 1; }; echo "skipped: no curl"; exit 77; }

SERVE_PID=""
# serve_start STORE [ARGS...]: starts the server, sets SERVE_PID and BASE (http://127.0.0.1:PORT)
serve_start() {
    local store=$1; shift
    : >"$W/serve.log"
    "$TIDE" --store "$store" serve --listen 127.0.0.1:0 "$@" 2>"$W/serve.log" &
    SERVE_PID=$!
    BASE=""
    for _ in $(seq 200); do
        BASE=$(grep -o 'listening on https\?://[0-9.:]*' "$W/serve.log" | head -1 | sed 's/^listening on //')
        [ -n "$BASE" ] && break
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$BASE" ] || { echo "FAIL the server did not start:"; cat "$W/serve.log"; exit 1; }
}
# serve_stop: SIGTERM, wait; SERVE_RC is its exit status
serve_stop() {
    [ -n "$SERVE_PID" ] || return 0
    kill -TERM "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID"; SERVE_RC=$?
    SERVE_PID=""
}
serve_cleanup() { [ -n "$SERVE_PID" ] && kill -KILL "$SERVE_PID" 2>/dev/null; wait 2>/dev/null; }
# key STORE NAME ROLE TLP: prints a new key
key() { "$TIDE" --store "$1" keys add "$2" --role "$3" --tlp-max "$4" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['key'])"; }
# code KEY METHOD PATH [curl args...]: prints the HTTP status; the body goes to $W/body
code() {
    local k=$1 m=$2 p=$3; shift 3
    if [ -n "$k" ]; then
        curl -s -o "$W/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $k" "$@" "$BASE$p"
    else
        curl -s -o "$W/body" -w '%{http_code}' -X "$m" "$@" "$BASE$p"
    fi
}
# jq-like: jget EXPR (python over the JSON in $W/body as d)
jget() { python3 -c "import json,sys; d=json.load(open('$W/body')); print($1)" 2>/dev/null; }
