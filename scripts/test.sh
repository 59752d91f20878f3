#!/usr/bin/env bash
# The test command of the README: starts the real services the tests use
# (PostgreSQL from Debian packages, versitygw for S3, Chromium from Debian for
# the console's browser tests — installing them when missing, which needs
# root), then runs gofmt, go vet and the tests (with
# -race on the store and security-core packages). Exits non-zero on any
# failure. CI runs it with GENESIS_TEST_REQUIRE=all, which turns every
# "service missing" skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
step() { echo "== $* ($(($(date +%s) - start)) s)"; }

step "starting services"
eval "$(scripts/services.sh start)"
export GENESIS_TEST_POSTGRES GENESIS_TEST_S3 GENESIS_TEST_SLURM GENESIS_TEST_SLURM_TOKEN GENESIS_TEST_SLURM_USER GENESIS_TEST_CHROMIUM
# The console's browser tests write screenshots of the pages they drive here
# (CI keeps the directory as an artifact).
export GENESIS_CONSOLE_SCREENSHOTS=${GENESIS_CONSOLE_SCREENSHOTS:-${TMPDIR:-/tmp}/genesis-artifacts/console}

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

# The API document lints clean with Redocly's recommended rules and
# Spectral's spectral:oas (configured beside it). Both come from the npm
# registry, pinned; without npx the step is skipped, loudly, except in CI.
step "OpenAPI lint (Redocly recommended, Spectral spectral:oas)"
if command -v npx >/dev/null; then
	(
		cd internal/httpapi
		export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
		npx -y @redocly/cli@2.77.0 lint --format=stylish openapi.yaml >/tmp/genesis-redocly.$$ 2>&1 & r=$!
		npx -y @stoplight/spectral-cli@6.16.3 lint --fail-severity=hint openapi.yaml >/tmp/genesis-spectral.$$ 2>&1 & s=$!
		ok=0
		wait $r || { echo "Redocly:"; cat /tmp/genesis-redocly.$$; ok=1; }
		wait $s || { echo "Spectral:"; cat /tmp/genesis-spectral.$$; ok=1; }
		rm -f /tmp/genesis-redocly.$$ /tmp/genesis-spectral.$$
		exit $ok
	)
elif [ "${GENESIS_TEST_REQUIRE:-}" = all ]; then
	echo "npx (Node.js) is missing: the OpenAPI lint cannot run"; exit 1
else
	echo "SKIP: npx (Node.js) is missing: the OpenAPI document is not linted"
fi

# Packages whose concurrency matters most run under the race detector.
race_pkgs=(
	./internal/store/...
	./internal/identity/...
	./internal/httpapi/...
	./internal/label/...
	./internal/authz/...
	./internal/audit/...
	./internal/blob/...
	./internal/compute/...
	./internal/lab/...
	./internal/lease/...
	./internal/campaign/...
)
race_list=$(go list "${race_pkgs[@]}" 2>/dev/null | sort)
rest=$(comm -23 <(go list ./... | sort) <(echo "$race_list"))
# go test starts packages in the order given, -p at a time: the slowest
# (internal/campaign, whose crash test alone is about half of the race
# step's test time) goes first, so that it runs beside the others rather
# than after them.
slow_first=$(go list ./internal/campaign)
race_list="$slow_first $(grep -vxF "$slow_first" <<<"$race_list")"

step "go test -race (store and core)"
go test -race -count=1 -timeout 20m $race_list

step "go test (everything else)"
go test -count=1 -timeout 20m $rest

# The race run of authz samples 10^5 decisions; this run checks 10^6
# against the reference model, as the security core's contract asks.
step "authz differential test, 10^6 cases"
go test -count=1 -run 'TestDifferential$' -v ./internal/authz/ | grep -E '^(---|ok|FAIL|\s+differential_test)' || exit 1

step "all tests passed"
