#!/usr/bin/env bash
# Ensure the local services Parley's tests and `make dev` need are installed
# and running: PostgreSQL (cluster "main", 127.0.0.1:5432, trust auth for user
# postgres) and Redis (127.0.0.1:6379). Also installs Debian's chromium for the
# browser tests; a chromium failure is only a warning.
#
# Idempotent: safe to run repeatedly, with services already up or stopped.
# Never reads stdin; never prompts (sudo is used with -n when not root).
#
# Environment:
#   PARLEY_SERVICES_TIMEOUT  seconds to wait for each service (default 60)
#   PARLEY_SKIP_CHROMIUM=1   do not check for / install chromium
set -euo pipefail
exec </dev/null

TIMEOUT="${PARLEY_SERVICES_TIMEOUT:-60}"
PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
HBA_MARKER="# parley scripts/services.sh: trust for user postgres"

say()  { printf 'services: %s\n' "$*"; }
warn() { printf 'services: WARNING: %s\n' "$*" >&2; }
die()  { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

# as_root CMD...: run CMD as root (directly, or via non-interactive sudo).
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		die "need root (or passwordless sudo) to run: $*"
	fi
}

APT_UPDATED=0
APT_LOG="${TMPDIR:-/tmp}/parley-services-apt.log"
# apt_get ARGS...: quiet, non-interactive apt-get as root; output goes to
# $APT_LOG and its tail is shown on failure.
apt_get() {
	if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
		die "need root (or passwordless sudo) to run apt-get $*"
	fi
	if as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get -o DPkg::Lock::Timeout=300 -q -y "$@" >>"$APT_LOG" 2>&1; then
		return 0
	fi
	tail -n 30 "$APT_LOG" >&2 || true
	return 1
}
apt_install() {
	if ! command -v apt-get >/dev/null 2>&1; then
		warn "apt-get not found; cannot install $*"
		return 1
	fi
	if [ "$APT_UPDATED" -eq 0 ]; then
		say "apt-get update (log: $APT_LOG)"
		apt_get update || return 1
		APT_UPDATED=1
	fi
	say "apt-get install $* (log: $APT_LOG)"
	apt_get install --no-install-recommends "$@" || return 1
}

# wait_for CMD...: poll CMD until it succeeds or TIMEOUT seconds pass.
wait_for() {
	local deadline=$((SECONDS + TIMEOUT))
	until "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.5
	done
}

# ---------------------------------------------------------------- PostgreSQL

pg_ready() { pg_isready -h "$PG_HOST" -p "$PG_PORT" -q; }

# Connect as postgres without a password, over TCP and over the local socket.
pg_trust_ok() {
	psql -w -X -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1 &&
		psql -w -X -h /var/run/postgresql -p "$PG_PORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

pg_version() {
	# Newest version with a "main" cluster config, else newest installed server.
	local v
	v=$(find /etc/postgresql -mindepth 2 -maxdepth 2 -name main -type d 2>/dev/null |
		awk -F/ '{print $4}' | sort -V | tail -n 1) || true
	if [ -z "$v" ]; then
		v=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d 2>/dev/null |
			awk -F/ '{print $5}' | sort -V | tail -n 1) || true
	fi
	printf '%s' "$v"
}

ensure_postgres() {
	if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(pg_version)" ]; then
		say "postgresql not installed; installing"
		apt_install postgresql || die "could not install postgresql"
	fi
	local ver
	ver=$(pg_version)
	[ -n "$ver" ] || die "postgresql installed but no server version found under /usr/lib/postgresql"

	if [ ! -f "/etc/postgresql/$ver/main/postgresql.conf" ]; then
		say "creating postgresql $ver cluster main on port $PG_PORT"
		as_root pg_createcluster --port "$PG_PORT" "$ver" main >/dev/null ||
			die "pg_createcluster $ver main failed"
	fi

	if pg_ready; then
		say "postgresql $ver/main already running on $PG_HOST:$PG_PORT"
	else
		# status: 0 = running, 3 = not running (anything else: let start report it).
		if as_root pg_ctlcluster "$ver" main status >/dev/null 2>&1; then
			say "postgresql $ver/main running but not ready yet; waiting"
		else
			say "starting postgresql $ver/main"
			as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start ||
				die "pg_ctlcluster $ver main start failed; see /var/log/postgresql/postgresql-$ver-main.log"
		fi
		if ! wait_for pg_ready; then
			tail -n 20 "/var/log/postgresql/postgresql-$ver-main.log" >&2 2>/dev/null || true
			die "postgresql not ready on $PG_HOST:$PG_PORT after ${TIMEOUT}s"
		fi
		say "postgresql $ver/main ready on $PG_HOST:$PG_PORT"
	fi

	if ! pg_trust_ok; then
		local hba="/etc/postgresql/$ver/main/pg_hba.conf"
		[ -f "$hba" ] || die "cannot connect as postgres without a password and $hba is missing"
		if as_root grep -qF "$HBA_MARKER" "$hba"; then
			die "trust lines already in $hba but connecting as postgres without a password still fails"
		fi
		say "adding trust rules for user postgres to $hba"
		# pg_hba is first-match, so the trust lines go at the top.
		as_root sed -i "1i $HBA_MARKER\\
local   all   postgres                 trust\\
host    all   postgres   127.0.0.1/32  trust\\
host    all   postgres   ::1/128       trust" "$hba"
		as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload ||
			die "pg_ctlcluster $ver main reload failed"
		wait_for pg_trust_ok ||
			die "still cannot connect as postgres without a password after editing $hba"
		say "postgresql trust auth for postgres enabled"
	fi

	# Migration 00028 creates pg_trgm, one of Postgres's contrib modules:
	# part of Debian's server package, a package of its own elsewhere.
	if ! psql -w -X -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -Atqc \
		"select 1 from pg_available_extensions where name = 'pg_trgm'" 2>/dev/null | grep -q 1; then
		say "pg_trgm not available; installing postgresql-contrib"
		apt_install postgresql-contrib || die "could not install postgresql-contrib (pg_trgm, needed by migration 00028)"
	fi
	say "pg_trgm available"
}

# --------------------------------------------------------------------- Redis

redis_ready() {
	[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

ensure_redis() {
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		say "redis not installed; installing"
		apt_install redis-server || die "could not install redis-server"
	fi
	if redis_ready; then
		say "redis already running on $REDIS_HOST:$REDIS_PORT"
		return 0
	fi
	say "starting redis"
	as_root mkdir -p /var/lib/redis /var/log/redis
	as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
		--save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log ||
		die "redis-server failed to start; see /var/log/redis/ci.log"
	if ! wait_for redis_ready; then
		as_root tail -n 20 /var/log/redis/ci.log >&2 2>/dev/null || true
		die "redis not answering PING on $REDIS_HOST:$REDIS_PORT after ${TIMEOUT}s"
	fi
	say "redis ready on $REDIS_HOST:$REDIS_PORT"
}

# ------------------------------------------------------------------ Chromium

ensure_chromium() {
	if [ "${PARLEY_SKIP_CHROMIUM:-}" = 1 ]; then
		say "chromium check skipped (PARLEY_SKIP_CHROMIUM=1)"
		return 0
	fi
	if [ -x /usr/bin/chromium ]; then
		say "chromium present (/usr/bin/chromium)"
		return 0
	fi
	say "chromium missing; installing (browser tests need it)"
	if apt_install chromium fonts-liberation && [ -x /usr/bin/chromium ]; then
		say "chromium installed"
	else
		warn "could not install chromium; browser tests will be skipped or fail"
	fi
}

ensure_postgres
ensure_redis
ensure_chromium
say "ok"
