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
