#!/usr/bin/env bash
# webui.sh - the web UI in a real browser: loads the demo scenario (tide demo) into a store,
# makes an analyst key (ceiling amber) and a reader key (ceiling green), starts `tide serve` on
# an ephemeral loopback port with the bundle found next to the binary (build/ui, made by the
# CMake target tide_ui), and runs tests/ui/webui.test.mjs: puppeteer-core driving Debian's
# chromium headless through every page. Screenshots go to <build>/ui-screenshots.
# Without chromium, node or node_modules (npm ci) the test is skipped, and fails under CI=true.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
need() {
    [ "${CI:-}" = true ] && { echo "FAIL $1 (CI=true: scripts/setup.sh installs it)"; exit 1; }
    echo "skipped: $1 (scripts/setup.sh installs it)"; exit 77
}
CHROMIUM=${TIDE_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || need "no chromium at $CHROMIUM"
command -v node >/dev/null || need "no node"
[ -f "$SRC/node_modules/puppeteer-core/package.json" ] || need "no node_modules/puppeteer-core (npm ci)"
UI=$(dirname "$TIDE")/ui
[ -f "$UI/app.js" ] || { echo "FAIL no UI bundle at $UI (the CMake target tide_ui builds it when node_modules exists)"; exit 1; }
command -v python3 >/dev/null || need "no python3"
W=$(mktemp -d /tmp/tide-webui.XXXXXX)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
. "$SRC/tests/integration/lib/serve_common.bash"
trap 'serve_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
S=$W/store
"$TIDE" --store "$S" demo >"$W/demo.out" 2>&1 || { echo "FAIL tide demo"; cat "$W/demo.out"; exit 1; }
ANALYST=$(key "$S" responder analyst amber)
READER=$(key "$S" viewer reader green)
serve_start "$S"
check "tide serve found the bundle next to the binary" 'grep -q "web UI from $UI" "$W/serve.log"'
SHOTS=$(dirname "$TIDE")/ui-screenshots
mkdir -p "$SHOTS"
TIDE_URL=$BASE TIDE_BIN=$TIDE TIDE_STORE=$S TIDE_ANALYST_KEY=$ANALYST TIDE_READER_KEY=$READER \
    TIDE_SHOTS=$SHOTS TIDE_CHROMIUM=$CHROMIUM \
    timeout 600 node "$SRC/tests/ui/webui.test.mjs"
rc=$?
check "browser tests (tests/ui/webui.test.mjs): exit 0" '[ "$rc" = 0 ]'
serve_stop
check "SIGTERM: exit 0" '[ "$SERVE_RC" = 0 ]'
echo "webui: $pass passed, $fail failed; screenshots in $SHOTS"
[ "$fail" = 0 ]
