#!/usr/bin/env bash
# The part of the official postgres image's entrypoint that compose.prod.yaml relies on: a first
# start initialises PGDATA with POSTGRES_USER (password POSTGRES_PASSWORD) and creates POSTGRES_DB.
set -Eeuo pipefail
[ "${1:0:1}" = '-' ] && set -- postgres "$@"

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" && chown -R postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
	: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (as for the official image)}"
	user="${POSTGRES_USER:-postgres}" db="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"
	initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
		--auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
	echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
	echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
	if [ "$db" != postgres ]; then
		pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
		psql -v ON_ERROR_STOP=1 --username="$user" --dbname=postgres -q \
			-c "CREATE DATABASE \"$db\""
		pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
	fi
	echo "PostgreSQL init process complete; ready for start up."
fi
exec "$@"
