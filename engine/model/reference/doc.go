// Package reference is the oracle executor: the float64 implementation of
// model.Ops, each operation written as plainly as its definition, slow but easy
// to check line by line. It runs a family's model.Definition like every other
// executor, so a family written once is checked on each executor against it.
//
// Every matrix is decoded (and MLX weights dequantized) through the same
// Linear.Row the tests use, in float64 from there on, and tokens are processed
// one at a time, so prefill and decode share one path. The
// executors in engine/cpu and engine/graph are tested against it through
// engine/enginetest; it is itself tested against hand-computed values and
// against the real stories260K model telling its story.
//
// Who may import me: tests and tools. Nothing on a serving path should.
package reference
