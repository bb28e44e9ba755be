//go:build !race

// Numeric checks that only compute: make test-norace runs them without the race
// detector, which made them ten to twenty times slower (350 s of CI time on two
// cores for the four conformance and reference suites) while the concurrency
// they touch is raced by the executors' own tests.

package enginetest

import (
	"testing"
)

// TestReference runs the suite on the reference itself: every comparison is
// then exact, so this checks the suite's own plumbing (models, sequences,
// error contract), while broken_test.go checks that it catches wrong runners.
func TestReference(t *testing.T) {
	RunAll(t, ReferenceRunner)
}
