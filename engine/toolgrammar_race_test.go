//go:build race

package engine

// raceEnabled lets the tests that sample many tokens over a 151k-token
// vocabulary run fewer of them under the race detector, where each costs
// ten times more.
const raceEnabled = true
