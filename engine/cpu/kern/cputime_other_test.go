//go:build !linux

package kern

import "testing"

func cpuLoop(b *testing.B, bytes int64, f func(), unit ...string) {
	for b.Loop() {
		f()
	}
}
