//go:build race

package v1test

// raceEnabled skips the npm SDK scenarios under the race detector: they add
// no server code the other subtests of TestQwenTools do not run, and every
// token over Qwen's 151k-token vocabulary costs twenty times more there.
const raceEnabled = true
