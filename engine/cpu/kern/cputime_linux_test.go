package kern

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// threadCPU is the CPU time the calling OS thread has used. Benchmarks on a
// shared machine report work per CPU second with it, which other processes
// taking turns on the cores do not distort (wall time they do).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuLoop runs f b.N times on a locked thread and reports the bytes (or,
// with unit "flop", operations) handled per CPU second.
func cpuLoop(b *testing.B, bytes int64, f func(), unit ...string) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	for b.Loop() {
		f()
	}
	d := threadCPU() - start
	switch {
	case d <= 0:
	case len(unit) > 0:
		b.ReportMetric(float64(bytes)*float64(b.N)/d.Seconds()/1e9, "cpu-G"+unit[0]+"/s")
	default:
		b.ReportMetric(float64(bytes)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
	}
}
