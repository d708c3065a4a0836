# The two commands a fresh machine needs:
#   make run    walk through a token's life (in-process Unleash stand-in by
#               default; a real server with UNLEASH_URL and UNLEASH_API_TOKEN)
#   make test   every check CI runs, including the suite against a real
#               Unleash started by scripts/unleash.sh
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
GO ?= go

.PHONY: run test check compat unit integration-real fuzz soak bench stop-unleash

run:
	$(GO) run ./examples/quickstart

test: check compat unit integration-real fuzz

# gofmt and go vet must be clean.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The module declares go 1.25 and must build with the two newest releases:
# vet (which compiles every package and test) with Go 1.25.0 as well, a
# toolchain the go command fetches from the module proxy.
GO_PREVIOUS ?= go1.25.0
compat:
	GOTOOLCHAIN=$(GO_PREVIOUS) $(GO) vet ./...

# Unit tests, the fault matrix, the credential audit, unleashtest's own tests
# and the integration suite against the in-process stand-in (in both token
# storage modes), all with the race detector; then every benchmark once, so
# they keep working.
unit:
	env -u UNLEASH_URL -u UNLEASH_API_TOKEN $(GO) test -race -count=1 ./...
	env -u UNLEASH_URL -u UNLEASH_API_TOKEN UNLEASH_STANDIN_SECURE=1 $(GO) test -race -count=1 ./integration/ ./cmd/unleash-tokens/ ./hygiene/
	env -u UNLEASH_URL -u UNLEASH_API_TOKEN $(GO) test -run '^$$' -bench . -benchtime=1x ./...

# start-unleash begins a recipe that needs the script's Unleash: it starts it
# unless it already runs, checks that start printed only its export lines,
# evals them, and on exit stops the server only if this recipe started it.
start-unleash = started=no; \
	scripts/unleash.sh status >/dev/null 2>&1 || started=yes; \
	trap 'if [ "$$started" = yes ]; then scripts/unleash.sh stop; fi' EXIT; \
	exports=$$(scripts/unleash.sh start); \
	if grep -qv '^export UNLEASH_[A-Z_]*=' <<<"$$exports"; then \
	  echo "$@: scripts/unleash.sh start printed more than its export lines"; exit 1; fi; \
	eval "$$exports"

# The integration suite and the command end to end (as a built binary)
# against every real Unleash of the matrix (scripts/unleash.sh: 8.2.0,
# 8.2.0 with secure token storage, 7.6.5, 6.10.1, 5.12.8), one server at a
# time, each started and stopped again (unless it was running before); the
# soak (UNLEASH_SOAK long) against 8.2.0. One line of results per server;
# then the fleet test (one file applied to 8.2.0, 8.2.0-secure and 6.10.1
# running at once; UNLEASH_FLEET= skips it).
# UNLEASH_SERVERS="7.6.5" make integration-real for one of them.
UNLEASH_SOAK ?= 60s
integration-real:
	UNLEASH_SOAK=$(UNLEASH_SOAK) GO=$(GO) scripts/integration-real.sh

stop-unleash:
	scripts/unleash.sh stop

# Benchmarks of the SDK against the same calls made with plain net/http and
# encoding/json (BENCHMARKS.md), and of package desired: BENCH_ROUNDS runs of
# the in-process ones,
# BENCH_REAL_ROUNDS of the ones against a real Unleash (the one in
# UNLEASH_URL, else one started with scripts/unleash.sh and stopped again
# only when this target started it; skipped when none can be started), then
# the table of SDK/raw medians and ratios. Raw outputs stay in BENCH_DIR.
# The desired "Plan" benchmarks include planning one file against a fleet of
# 8 stand-ins with 50 ms of latency each, beside planning one of them
# (fleet8/one: at most 1.5; one list request per instance).
BENCH_ROUNDS ?= 6
BENCH_TIME ?= 1s
BENCH_REAL_ROUNDS ?= 5
BENCH_REAL_TIME ?= 40x
BENCH_DIR ?= /tmp/unleashadmin-bench
bench:
	@dir='$(BENCH_DIR)'; rm -rf "$$dir"; mkdir -p "$$dir"; \
	$(GO) test -c -o "$$dir/inprocess.test" . ; \
	$(GO) test -c -o "$$dir/real.test" ./benchreal; \
	$(GO) test -c -o "$$dir/desired.test" ./desired; \
	echo "bench: desired, planning in-process"; \
	env -u UNLEASH_URL -u UNLEASH_API_TOKEN "$$dir/desired.test" -test.run '^$$' -test.bench 'Plan' \
	  -test.benchmem -test.count $(BENCH_ROUNDS) > "$$dir/desired-plan.txt"; \
	for i in $$(seq $(BENCH_ROUNDS)); do \
	  echo "bench: in-process round $$i of $(BENCH_ROUNDS)"; \
	  env -u UNLEASH_URL -u UNLEASH_API_TOKEN "$$dir/inprocess.test" -test.run '^$$' -test.bench . \
	    -test.benchmem -test.benchtime $(BENCH_TIME) >> "$$dir/inprocess.txt"; \
	done; \
	started=no; \
	trap 'if [ "$$started" = yes ]; then scripts/unleash.sh stop; fi' EXIT; \
	if [ -z "$${UNLEASH_URL:-}" ] || [ -z "$${UNLEASH_API_TOKEN:-}" ]; then \
	  scripts/unleash.sh status >/dev/null 2>&1 || started=yes; \
	  if exports=$$(scripts/unleash.sh start); then eval "$$exports"; \
	  else echo "bench: could not start Unleash; skipping the real-server benchmarks"; fi; \
	fi; \
	if [ -n "$${UNLEASH_URL:-}" ]; then \
	  for i in $$(seq $(BENCH_REAL_ROUNDS)); do \
	    echo "bench: real-server round $$i of $(BENCH_REAL_ROUNDS) against $$UNLEASH_URL"; \
	    "$$dir/real.test" -test.run '^$$' -test.bench . -test.benchmem \
	      -test.benchtime $(BENCH_REAL_TIME) >> "$$dir/real.txt" || echo "bench: real-server round $$i failed"; \
	  done; \
	  echo "bench: desired, 100 creates with Parallel 4 beside one by one against $$UNLEASH_URL"; \
	  "$$dir/desired.test" -test.run '^$$' -test.bench 'RealApply100' -test.benchtime 10x -test.count 3 -test.v \
	    > "$$dir/desired-real.txt" || echo "bench: the desired real-server benchmark failed"; \
	fi; \
	grep -h '^Benchmark' "$$dir"/desired-*.txt || true; \
	head -n 4 "$$dir/inprocess.txt"; \
	$(GO) run ./benchreal/ratios "$$dir"/inprocess.txt $$(ls "$$dir"/real.txt 2>/dev/null) | tee "$$dir/ratios.md"

# Fuzzing (fuzz_test.go): each target for FUZZTIME on top of its seed corpus
# in testdata/fuzz, made from the captures (-fuzz takes one target at a
# time). -fuzzminimizetime keeps the run fuzzing instead of shrinking the
# large capture bodies. A target is NAME (in the root package) or
# NAME:PACKAGE.
FUZZTIME ?= 10s
FUZZ_TARGETS := FuzzDecode FuzzAPIError FuzzPath FuzzParse:./desired FuzzReadPlan:./desired FuzzEscape:./cmd/unleash-tokens
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  f=$${t%%:*}; pkg=.; case $$t in *:*) pkg=$${t#*:};; esac; \
	  echo "fuzz: $$f in $$pkg for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x $$pkg ; \
	done

# The soak alone against the script's server: make soak UNLEASH_SOAK=5m
soak:
	@$(start-unleash); \
	UNLEASH_SOAK=$(UNLEASH_SOAK) $(GO) test -race -count=1 -v -run '^TestSoak$$' ./integration/
