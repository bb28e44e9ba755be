package pool

import (
	"runtime"
	"testing"
)

func TestDefaultBudget(t *testing.T) {
	const gib = int64(1) << 30
	tests := []struct {
		total, want int64
	}{
		{0, 0},
		{-1, 0},
		{2 * gib, 1 * gib},   // small machine: half, not all of it to the reserve
		{8 * gib, 4 * gib},   // 25% is 2 GiB, raised to the 4 GiB floor
		{16 * gib, 12 * gib}, // 25%
		{24 * gib, 18 * gib}, // 25%
		{32 * gib, 24 * gib}, // 25% hits the 8 GiB ceiling exactly
		{64 * gib, 56 * gib}, // capped at 8 GiB
		{192 * gib, 184 * gib},
	}
	for _, tt := range tests {
		t.Run(formatBytes(tt.total), func(t *testing.T) {
			if got := DefaultBudget(tt.total); got != tt.want {
				t.Errorf("DefaultBudget(%d) = %d, want %d", tt.total, got, tt.want)
			}
		})
	}
}

func TestLimitsDefaults(t *testing.T) {
	l := limitsFrom(Config{BudgetBytes: -1}, discardLogger())
	want := limits{budget: -1, ttl: DefaultTTL, maxQueue: DefaultMaxQueue, maxParallel: DefaultMaxParallel,
		queueTimeout: DefaultQueueTimeout, roomWait: DefaultRoomWait, totalRAM: l.totalRAM}
	if l != want {
		t.Errorf("limits = %+v, want %+v", l, want)
	}
	if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
		if l.totalRAM <= 0 {
			t.Errorf("total RAM unknown on %s", runtime.GOOS)
		}
		if d := limitsFrom(Config{}, discardLogger()); d.budget != DefaultBudget(l.totalRAM) || d.budget <= 0 {
			t.Errorf("default budget %d, want %d", d.budget, DefaultBudget(l.totalRAM))
		}
	}
}
