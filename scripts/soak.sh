#!/usr/bin/env bash
# The long soak (`make soak`): TestSoakLong in internal/loadtest, the real
# binaries as deployed (2 web + 2 worker processes) on a private Postgres
# and Redis that the test starts itself, under the inbound mix, a campaign,
# trigger events, agents' replies and every fault. See docs/soak.md.
#
# Knobs (environment):
#   SOAK_DURATION    the run at 80% of the knee (default 10m)
#   SOAK_RECIPIENTS  campaign size (default 100000)
#   SOAK_EVENTS      trigger events, one per person (default 10000; at most 1% of the recipients)
#   SOAK_STEP        length of each knee step (default 10s)
#   SOAK_RATE_STEP   req/s added per knee step (default 250)
#   SOAK_RATE        soak at this fixed rate (req/s) instead of 80% of the knee
#   SOAK_NUMBERS     sender numbers besides the brand's first (default 19)
#   SOAK_MPS         messages per second of each of those numbers (default 50)
#   SOAK_REPLY_MPS   messages per second of the brand's first number, the one
#                    customers text and every reply goes from (default 100, a short code)
#   SOAK_REPORT      file the pass table is written to (default tmp-soak/report.md)
set -euo pipefail
cd "$(dirname "$0")/.."
report="${SOAK_REPORT:-tmp-soak/report.md}"
mkdir -p "$(dirname "$report")"
echo "soak: ${SOAK_DURATION:-10m} at 80% of the knee, ${SOAK_RECIPIENTS:-100000} recipients; load $(cut -d' ' -f1-3 /proc/loadavg); report in $report"
PARLEY_SOAK=1 SOAK_REPORT="$report" go test ./internal/loadtest/ -run '^TestSoakLong$' -count=1 -v -timeout 90m 2>&1 | tee "${report%.md}.log"
