#!/usr/bin/env bash
# demo.sh - the README's "run tide" command: sets the machine up (scripts/setup.sh: packages
# and the ./build build), then runs `tide demo`, which generates a small scenario, ingests it
# into the store ($TIDE_HOME, else ./tide-data) and shows what tide made of it.
# Extra arguments go to the demo verb (e.g. --keep).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
exec ./build/tide demo "$@"
