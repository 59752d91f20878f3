# apt.sh: apt-get that waits for a busy package manager instead of dying
# (another apt-get, unattended-upgrades, a second services.sh). Sourced by
# services.sh and slurm.sh.
#
#   apt_get install -y pkg…   waits up to APT_LOCK_TIMEOUT s (default 600)
#                             for the dpkg lock, then tries up to
#                             APT_TRIES times (default 5) in all
#   apt_get update            the same (the lists lock has no timeout
#                             option: only the retries wait for it)

apt_get() {
	local try=1 tries=${APT_TRIES:-5} pause=${APT_RETRY_PAUSE:-10} rc
	while :; do
		rc=0
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="${APT_LOCK_TIMEOUT:-600}" "$@" || rc=$?
		[ "$rc" -eq 0 ] && return 0
		if [ "$try" -ge "$tries" ]; then
			echo "apt-get $*: failed $try times (exit $rc)" >&2
			return "$rc"
		fi
		echo "apt-get $*: exit $rc (is another package manager running?); trying again in ${pause}s ($try of $tries)" >&2
		sleep "$pause"
		try=$((try + 1))
	done
}
