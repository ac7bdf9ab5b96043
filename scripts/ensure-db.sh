#!/usr/bin/env bash
# Usage: scripts/ensure-db.sh POSTGRES_URL
# Create the database named in POSTGRES_URL if it does not exist yet, by
# connecting to the "postgres" maintenance database on the same server with
# the same credentials. Idempotent; never prompts for a password.
set -euo pipefail
exec </dev/null

url="${1:?usage: $0 postgres://user@host:port/dbname[?params]}"

if psql -w -X "$url" -Atqc 'select 1' >/dev/null 2>&1; then
	exit 0
fi

case "$url" in
postgres://* | postgresql://*) ;;
*) echo "ensure-db: only postgres:// URLs are supported: $url" >&2; exit 1 ;;
esac

# postgres://user@host:port/DBNAME?params -> DBNAME, and the same URL with
# DBNAME replaced by "postgres".
rest="${url#*://}"
query=""
case "$rest" in *\?*) query="?${rest#*\?}"; rest="${rest%%\?*}" ;; esac
case "$rest" in
*/*) db="${rest#*/}"; authority="${rest%%/*}" ;;
*) echo "ensure-db: no database name in $url" >&2; exit 1 ;;
esac
[ -n "$db" ] || { echo "ensure-db: no database name in $url" >&2; exit 1; }
admin_url="${url%%://*}://${authority}/postgres${query}"

exists=$(psql -w -X "$admin_url" -v ON_ERROR_STOP=1 -v db="$db" -Atq \
	<<<"select 1 from pg_database where datname = :'db'") || {
	echo "ensure-db: cannot connect to $admin_url" >&2
	exit 1
}
if [ "$exists" != 1 ]; then
	echo "ensure-db: creating database $db"
	psql -w -X "$admin_url" -v ON_ERROR_STOP=1 -v db="$db" -q \
		<<<'create database :"db"'
fi
psql -w -X "$url" -Atqc 'select 1' >/dev/null ||
	{ echo "ensure-db: database $db exists but $url is not reachable" >&2; exit 1; }
