#!/usr/bin/env bash
# Starts a single-host Slurm (Debian 12: Slurm 22.05, REST API v0.0.38) on
# loopback for Genesis's tests: munge, slurmctld, slurmd and slurmrestd with
# JWT authentication. Installs the Debian packages when missing (needs root).
# Idempotent: when slurmrestd already answers on the port, the running Slurm
# is reused and only a fresh token is minted.
#
#   eval "$(scripts/slurm.sh start)"   # prints export GENESIS_TEST_SLURM=…,
#                                      # GENESIS_TEST_SLURM_TOKEN=…, GENESIS_TEST_SLURM_USER=…
#   scripts/slurm.sh stop              # stops the daemons this script started (by PID)
#
# Only the export lines go to stdout; progress goes to stderr.
#
# Facts this relies on (tested here, Debian 12, 2 cores):
#   - slurmrestd refuses to run as root or SlurmUser: it runs as user "restd".
#   - jobs run as $GENESIS_SLURM_USER (default "genesisjob"), the token's user;
#     their working directories and output paths must be writable by it.
#   - SlurmdParameters=config_overrides lets the node advertise more CPUs than
#     the machine has, so the tests' concurrent jobs do not queue behind 2 cores.
#   - EnforcePartLimits=ALL: a job the partition cannot run is rejected at
#     submission instead of pending forever.
#   - MinJobAge=3600: finished jobs stay visible to the REST API for an hour
#     (there is no accounting database in this set-up).
set -euo pipefail

D=${GENESIS_SLURM_DIR:-${GENESIS_SERVICES_DIR:-/tmp/genesis-services}/slurm}
CTLD_PORT=${GENESIS_SLURM_CTLD_PORT:-16817}
SLURMD_PORT=${GENESIS_SLURM_SLURMD_PORT:-16818}
REST_PORT=${GENESIS_SLURM_PORT:-16820}
JOB_USER=${GENESIS_SLURM_USER:-genesisjob}
REST_USER=restd
CONF=$D/slurm.conf
export SLURM_CONF=$CONF

log() { echo "slurm.sh: $*" >&2; }
now() { date +%s%N; }
since() { echo "$(( ($(now) - $1) / 1000000 )) ms"; }

node_ok() { sinfo -h -o %t 2>/dev/null | grep -Eq '^(idle|mix|alloc)$'; }
rest_up() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$REST_PORT/openapi/v3"; }

# cwd_ok: no Slurm daemon runs in a directory that has since been removed
# (slurmrestd answers pings from one but fails every submission: "getcwd
# failed"). Daemons are started from $D for that reason; this catches ones
# an older script started from a checkout that is gone.
cwd_ok() {
	local p
	for p in $(pgrep -x slurmrestd) $(pgrep -x slurmd) $(pgrep -x slurmctld); do
		case "$(readlink "/proc/$p/cwd" 2>/dev/null)" in *" (deleted)") return 1 ;; esac
	done
	return 0
}

install_packages() {
	local pkgs=(slurmctld slurmd slurmrestd slurm-client munge slurm-wlm-jwt-plugin curl procps)
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		log "need root to apt-get install ${missing[*]}"
		exit 1
	fi
	local t
	t=$(now)
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck source=apt.sh
	. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
	if ! APT_TRIES=1 apt_get install -y -qq --no-install-recommends "${missing[@]}" >&2 2>/dev/null; then
		log "apt-get update (packages not found)"
		apt_get update -qq >&2
		apt_get install -y -qq --no-install-recommends "${missing[@]}" >&2
	fi
	log "installed ${missing[*]} in $(since "$t")"
}

write_conf() {
	local host cpus
	host=$(hostname -s)
	cpus=${GENESIS_SLURM_CPUS:-16}
	mkdir -p "$D"/{state,spool,log} && chmod 755 "$D"
	[ -s "$D/jwt_hs256.key" ] || { dd if=/dev/urandom of="$D/jwt_hs256.key" bs=32 count=1 status=none; }
	chmod 600 "$D/jwt_hs256.key"
	cat >"$CONF" <<CONF
ClusterName=genesis
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$D/jwt_hs256.key
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
EnforcePartLimits=ALL
DefMemPerCPU=100
MinJobAge=3600
KillWait=10
ReturnToService=2
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${GENESIS_SLURM_MEMORY_MB:-8000} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
	chmod 644 "$CONF"
}

start() {
	local t0 t
	t0=$(now)
	install_packages
	id "$REST_USER" >/dev/null 2>&1 || useradd -r -s /usr/sbin/nologin "$REST_USER"
	id "$JOB_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$JOB_USER"

	if ! cwd_ok; then
		log "Slurm daemons run in a removed directory; restarting them"
		pkill -x slurmrestd || true
		pkill -x slurmd || true
		pkill -x slurmctld || true
		sleep 1
	fi
	if rest_up && [ -f "$CONF" ] && scontrol ping 2>/dev/null | grep -q UP && node_ok; then
		log "Slurm already running (slurmrestd on 127.0.0.1:$REST_PORT), reusing"
	else
		[ "$(id -u)" = 0 ] || { log "need root to start Slurm"; exit 1; }
		write_conf
		# Daemons keep the directory they start in: never a checkout.
		cd "$D"
		# munge: the package normally creates the key; make sure on odd images.
		if [ ! -s /etc/munge/munge.key ]; then
			mkdir -p /etc/munge
			dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
			chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
		fi
		mkdir -p /run/munge && chown munge:munge /run/munge
		if ! pgrep -x munged >/dev/null; then
			runuser -u munge -- /usr/sbin/munged
		fi
		t=$(now)
		if ! scontrol ping 2>/dev/null | grep -q UP; then
			/usr/sbin/slurmctld -f "$CONF"
		fi
		if ! { [ -f "$D/slurmd.pid" ] && kill -0 "$(cat "$D/slurmd.pid")" 2>/dev/null; }; then
			/usr/sbin/slurmd -f "$CONF"
		fi
		for _ in $(seq 600); do
			node_ok && break
			sleep 0.1
		done
		node_ok || {
			log "node did not become idle; see $D/log"
			exit 1
		}
		log "slurmctld+slurmd up (node idle) in $(since "$t")"
		t=$(now)
		if ! rest_up; then
			SLURM_JWT=daemon SLURM_CONF=$CONF setsid runuser -u "$REST_USER" -- \
				/usr/sbin/slurmrestd -f "$CONF" -a rest_auth/jwt -s openapi/v0.0.38 "127.0.0.1:$REST_PORT" \
				>"$D/log/slurmrestd.log" 2>&1 </dev/null &
			echo $! >"$D/slurmrestd.runuser.pid"
			for _ in $(seq 200); do rest_up && break; sleep 0.05; done
			rest_up || { log "slurmrestd did not start; see $D/log/slurmrestd.log"; exit 1; }
		fi
		log "slurmrestd up in $(since "$t")"
	fi
	local tok
	tok=$(scontrol token username="$JOB_USER" lifespan=86400 | sed -n 's/^SLURM_JWT=//p')
	[ -n "$tok" ] || { log "scontrol token failed"; exit 1; }
	echo "export GENESIS_TEST_SLURM=http://127.0.0.1:$REST_PORT"
	echo "export GENESIS_TEST_SLURM_TOKEN=$tok"
	echo "export GENESIS_TEST_SLURM_USER=$JOB_USER"
	log "ready in $(since "$t0")"
}

stop() {
	if [ -f "$D/slurmrestd.runuser.pid" ]; then
		local p
		p=$(cat "$D/slurmrestd.runuser.pid")
		kill $(pgrep -P "$p") "$p" 2>/dev/null || true
		rm -f "$D/slurmrestd.runuser.pid"
	fi
	local pids=()
	for f in "$D/slurmd.pid" "$D/slurmctld.pid"; do
		if [ -f "$f" ]; then
			pids+=("$(cat "$f")")
			kill "${pids[-1]}" 2>/dev/null || true
		fi
	done
	# Wait until the daemons are gone, so that a start right after works.
	for p in "${pids[@]}"; do
		for _ in $(seq 100); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
	done
	for _ in $(seq 50); do
		rest_up || break
		sleep 0.1
	done
	log "stopped (munged left running)"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
