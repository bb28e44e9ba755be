// Package testenv is what tests need from the machine they run on: what a test
// does when a resource it needs is missing, where the repository and
// ../shared are (RepoDir, SharedDir), and the process's CPU time for
// benchmarks (CPUTime).
//
// On a developer's machine a missing resource (shared/models, Chromium, an npm
// harness, qemu, a D-Bus daemon) skips the test with a message. CI has every
// resource and sets MLX_MANAGER_REQUIRE_ALL=1 (in .ci/run): there the same test
// fails, so a suite can never turn green by skipping.
package testenv

import (
	"os"
	"testing"
)

// RequireAllVar is the environment variable that turns a resource skip into a failure.
const RequireAllVar = "MLX_MANAGER_REQUIRE_ALL"

// RequireAll reports whether every optional resource must be present (CI).
func RequireAll() bool { return os.Getenv(RequireAllVar) == "1" }

// Need skips tb when ok is false, or fails it when RequireAll is set.
// what says which resource is missing and how to get it.
func Need(tb testing.TB, ok bool, what string) {
	tb.Helper()
	if ok {
		return
	}
	if RequireAll() {
		tb.Fatalf("required resource missing (%s=1): %s", RequireAllVar, what)
	}
	tb.Skip("resource missing: " + what)
}
