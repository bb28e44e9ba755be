//go:build !race

package v1test

const raceEnabled = false
