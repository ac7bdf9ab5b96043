#!/usr/bin/env bash
# Runs the pacing and exactly-once tests many times in a row while the CPU is
# saturated by other work, as on a busy 2-core machine: a guarantee that only
# holds on an idle machine is not one. Usage: scripts/pacing-stress.sh [COUNT]
# (default 20). Installs stress-ng when it is missing (Debian), else loads the
# CPU with shell loops.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-20}"
: "${PARLEY_TEST_DATABASE_URL:=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
: "${PARLEY_TEST_REDIS_URL:=redis://127.0.0.1:6379/0}"
export PARLEY_TEST_DATABASE_URL PARLEY_TEST_REDIS_URL

if ! command -v stress-ng >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get -q install -y stress-ng </dev/null >/dev/null 2>&1 || true
fi
go test -c -o /tmp/parley-outbound.test ./internal/outbound/
go test -c -o /tmp/parley-queue.test ./internal/queue/

pids=()
if command -v stress-ng >/dev/null 2>&1; then
	stress-ng --cpu "$(nproc)" --quiet &
	pids+=($!)
else
	for _ in $(seq "$(nproc)"); do (while :; do :; done) & pids+=($!); done
fi
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
echo "pacing-stress: CPU saturated by ${#pids[@]} load process(es); running the tests $count times"

fail=0
(cd internal/queue && /tmp/parley-queue.test -test.count="$count" -test.run 'TestSlotsNeverExceedTheRate|TestLostStateRestartsPastBookedSlots|TestReserveBeyondMaxWait') || fail=1
(cd internal/outbound && /tmp/parley-outbound.test -test.count="$count" -test.timeout 60m \
	-test.run 'TestTwoWorkersShareRateLimit|TestRedisFlushDoesNotBurst|TestLateSenderBooksAgain|TestStopWinsWhileWaitingForSlot|TestTwoTasksOfOneMessageSendOnce|TestMarketingCapUnderConcurrency|TestGroupedClaimHasOneOwner|TestMarketingClaimedTogetherUnderCap') || fail=1
uptime
exit $fail
