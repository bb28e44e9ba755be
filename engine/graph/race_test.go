//go:build race

package graph

// raceEnabled lets numerics-only tests that the conformance suite already
// covers under the race detector skip their long, slower-there variant.
const raceEnabled = true
