#!/usr/bin/env bash
# Starts the real services Genesis's tests use, on loopback, installing them
# from Debian packages or the Go module proxy when missing, and prints the
# environment the tests read (see internal/testenv): PostgreSQL, an S3 server
# (versitygw) and Slurm with slurmrestd (scripts/slurm.sh); it also installs
# the programs tests run (poppler-utils for PDF text, Chromium for the
# console's browser tests). Installing needs root
# (apt-get); a service already reachable at the configured address is reused.
#
#   eval "$(scripts/services.sh)"        # start all, export the variables
#   scripts/services.sh stop             # stop what this script started
#
# State lives in $GENESIS_SERVICES_DIR (default /tmp/genesis-services).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
S=${GENESIS_SERVICES_DIR:-/tmp/genesis-services}
mkdir -p "$S" && S=$(cd "$S" && pwd)
PG_PORT=${GENESIS_PG_PORT:-55432}
S3_PORT=${GENESIS_S3_PORT:-17070}
GOBIN_DIR=${GENESIS_GOBIN:-$S/bin}
mkdir -p "$S" "$GOBIN_DIR"

log() { echo "services: $*" >&2; }
# shellcheck source=apt.sh
. "$HERE/apt.sh"

apt_updated=
apt_install() {
	if [ "$(id -u)" != 0 ]; then
		log "need root to apt-get install $*; install them or run as root"
		return 1
	fi
	if [ -z "$apt_updated" ]; then
		log "apt-get update"
		apt_get update -qq >&2
		apt_updated=1
	fi
	log "apt-get install $*"
	apt_get install -y -qq --no-install-recommends "$@" >&2
}

start_postgres() {
	local pgbin
	pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
	if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
		apt_install postgresql >&2
		pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
	fi
	local d=$S/pg
	if ! "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; then
		mkdir -p "$d"
		local run=()
		if [ "$(id -u)" = 0 ]; then
			chown postgres:postgres "$d"
			run=(runuser -u postgres --)
		fi
		if [ ! -f "$d/data/PG_VERSION" ]; then
			"${run[@]}" "$pgbin/initdb" -D "$d/data" -U postgres --auth=trust -E UTF8 >/dev/null
		fi
		# fsync=off: a throwaway test cluster; durability is tested on SQLite
		# and by PostgreSQL itself.
		"${run[@]}" "$pgbin/pg_ctl" -D "$d/data" -l "$d/pg.log" -w \
			-o "-p $PG_PORT -k $d -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
		log "PostgreSQL started on 127.0.0.1:$PG_PORT"
	else
		log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
	fi
	psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atqc "select 1 from pg_database where datname='genesis'" | grep -q 1 ||
		psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "create database genesis" >/dev/null
	echo "export GENESIS_TEST_POSTGRES=postgres://postgres@127.0.0.1:$PG_PORT/genesis?sslmode=disable"
}

start_s3() {
	local bin=$GOBIN_DIR/versitygw
	if [ ! -x "$bin" ]; then
		log "go install versitygw (about 2 minutes the first time)"
		GOBIN=$GOBIN_DIR go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 >&2
	fi
	local d=$S/s3
	if ! curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/"; then
		mkdir -p "$d/root"
		ROOT_ACCESS_KEY_ID=genesis ROOT_SECRET_ACCESS_KEY=genesis-secret \
			setsid "$bin" --port "127.0.0.1:$S3_PORT" posix "$d/root" >"$d/vgw.log" 2>&1 &
		echo $! >"$d/vgw.pid"
		for _ in $(seq 200); do
			curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" && break
			sleep 0.05
		done
		curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" || { log "versitygw did not start:"; cat "$d/vgw.log" >&2; return 1; }
		log "versitygw (S3) started on 127.0.0.1:$S3_PORT"
	else
		log "S3 already answering on 127.0.0.1:$S3_PORT"
	fi
	echo "export GENESIS_TEST_S3=http://genesis:genesis-secret@127.0.0.1:$S3_PORT/genesis-test"
}

# Chromium from Debian for the console's real-browser tests
# (internal/console/browsertest): installed when missing, checked by
# loading a page whose script must run, and exported for internal/testenv.
start_chromium() {
	local bin
	bin=$(command -v chromium || true)
	if [ -z "$bin" ]; then
		apt_install chromium || { log "chromium missing: browser tests will skip"; return 0; }
		bin=$(command -v chromium)
	fi
	local page
	page=$(mktemp --suffix=.html)
	printf '<!doctype html><h1 id=x>no js</h1><script>x.textContent="js ran"</script>' >"$page"
	local flags=(--headless=new --disable-gpu --dump-dom)
	[ "$(id -u)" = 0 ] && flags+=(--no-sandbox)
	if timeout 60 "$bin" "${flags[@]}" "file://$page" 2>/dev/null | grep -q "js ran"; then
		log "chromium works headless: $("$bin" --version 2>/dev/null)"
		echo "export GENESIS_TEST_CHROMIUM=$bin"
	else
		log "chromium at $bin did not run a page headless: browser tests will skip"
	fi
	rm -f "$page"
}

# Programs the tests run (not services): poppler-utils' pdftotext and
# pdfinfo read PDF publications (internal/lit/formats).
start_tools() {
	if ! command -v pdftotext >/dev/null 2>&1; then
		apt_install poppler-utils || log "pdftotext (poppler-utils) missing: PDF tests will skip"
	fi
}

start_slurm() {
	GENESIS_SERVICES_DIR=$S "$HERE/slurm.sh" start
}

stop_all() {
	GENESIS_SERVICES_DIR=$S "$HERE/slurm.sh" stop >&2 || true
	local pgbin
	pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
	if [ -n "$pgbin" ] && [ -f "$S/pg/data/postmaster.pid" ]; then
		if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$pgbin/pg_ctl" -D "$S/pg/data" stop -m fast >&2 || true
		else "$pgbin/pg_ctl" -D "$S/pg/data" stop -m fast >&2 || true; fi
	fi
	[ -f "$S/s3/vgw.pid" ] && kill "$(cat "$S/s3/vgw.pid")" 2>/dev/null || true
}

case "${1:-start}" in
start)
	# Servers keep the directory they start in: never the checkout, which
	# may be removed while they run on.
	mkdir -p "$S" && cd "$S"
	for svc in ${GENESIS_SERVICES:-tools chromium postgres s3 slurm}; do
		"start_$svc"
	done
	;;
stop) stop_all ;;
*) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
