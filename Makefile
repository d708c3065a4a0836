# The two commands a fresh machine needs:
#   make run    walk through a token's life (in-process Unleash stand-in by
#               default; a real server with UNLEASH_URL and UNLEASH_API_TOKEN)
#   make test   every check CI runs, including the suite against a real
#               Unleash started by scripts/unleash.sh
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
GO ?= go

.PHONY: run test check unit integration-real stop-unleash

run:
	$(GO) run ./examples/quickstart

test: check unit integration-real

# gofmt and go vet must be clean.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Unit tests, unleashtest's own tests and the integration suite against the
# in-process stand-in, all with the race detector.
unit:
	env -u UNLEASH_URL -u UNLEASH_API_TOKEN $(GO) test -race -count=1 ./...

# The integration suite against a real Unleash 8.2.0 on 127.0.0.1, stopped
# again whatever the outcome.
integration-real:
	@trap 'scripts/unleash.sh stop' EXIT; \
	exports=$$(scripts/unleash.sh start); eval "$$exports"; \
	echo "integration-real: running the suite against $$UNLEASH_URL"; \
	$(GO) test -race -count=1 -v ./integration/ 2>&1 | tee /tmp/unleashadmin-integration.log; \
	echo "integration-real: $$(grep -c -- '--- PASS' /tmp/unleashadmin-integration.log) passed, $$(grep -c -- '--- FAIL' /tmp/unleashadmin-integration.log || true) failed, $$(grep -c -- '--- SKIP' /tmp/unleashadmin-integration.log || true) skipped"

stop-unleash:
	scripts/unleash.sh stop
