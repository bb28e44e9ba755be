package hub

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestTickSpeedAndETA(t *testing.T) {
	t.Parallel()
	task := &Task{id: "t", repo: "a/b", status: StatusDownloading,
		files: []*fileState{{File: File{Path: "x", Size: 10_000}}, {File: File{Path: "y", Size: 10_000}}}}
	start := time.Unix(1000, 0)
	task.tick(start)
	task.files[0].done.Store(1000)
	task.tick(start.Add(time.Second)) // 1000 B/s
	p := task.Progress()
	if p.Speed != 1000 || p.BytesDone != 1000 || p.BytesTotal != 20_000 {
		t.Fatalf("after one second: %+v", p)
	}
	if p.ETA != 19*time.Second {
		t.Errorf("ETA %v, want 19s", p.ETA)
	}
	task.files[1].done.Store(3000)
	task.tick(start.Add(2 * time.Second)) // 3000 B/s now: the average moves 30% of the way
	if got := task.Progress().Speed; got != 1600 {
		t.Errorf("moving average %v, want 1600", got)
	}
	task.setStatus(StatusPaused, nil)
	if p := task.Progress(); p.Speed != 0 || p.ETA != 0 {
		t.Errorf("paused task reports speed %v, ETA %v", p.Speed, p.ETA)
	}
}

func TestSubscribersReplaceUnread(t *testing.T) {
	t.Parallel()
	var s subscribers
	id, ch := s.add(Progress{BytesDone: 1})
	for i := int64(2); i <= 100; i++ {
		s.send(Progress{BytesDone: i}) // never blocks although nobody reads
	}
	if p := <-ch; p.BytesDone != 100 {
		t.Errorf("reader got %d, want the latest (100)", p.BytesDone)
	}
	s.remove(id)
	if _, ok := <-ch; ok {
		t.Error("channel open after remove")
	}
	s.remove(id) // idempotent
}

func TestFreeSpace(t *testing.T) {
	t.Parallel()
	n, err := freeSpace(t.TempDir())
	if err != nil || n <= 0 {
		t.Errorf("freeSpace = %d, %v", n, err)
	}
	if _, err := freeSpace("/definitely/not/here"); err == nil {
		t.Error("freeSpace of a missing directory succeeded")
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"7":                             7 * time.Second,
		"-3":                            0,
		"junk":                          time.Second,
		"Wed, 01 Jan 2025 00:00:30 GMT": 30 * time.Second,
		"Tue, 31 Dec 2024 00:00:00 GMT": 0,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestLockBlobExcludes(t *testing.T) {
	t.Parallel()
	c := Cache{Root: t.TempDir()}
	etag := "0123456789abcdef0123456789abcdef01234567"
	unlock, err := c.lockBlob(context.Background(), "org/m", etag)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	if _, err := c.lockBlob(ctx, "org/m", etag); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while held: %v", err)
	}
	unlock()
	unlock2, err := c.lockBlob(context.Background(), "org/m", etag)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
	if _, err := c.lockBlob(context.Background(), "org/m", "../x"); err == nil {
		t.Error("lock with an unsafe etag accepted")
	}
}
