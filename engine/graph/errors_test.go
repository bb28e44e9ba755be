package graph

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestSequenceErrors(t *testing.T) {
	r := newTinyRunner(t, tinySpec, false, false)
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	tests := []struct {
		name    string
		run     func(t *testing.T) error
		wantErr string
		wantIs  error
	}{
		{name: "empty", wantErr: "no tokens", run: func(t *testing.T) error {
			_, err := newSeq(t, r, 8).Forward(ctx, nil)
			return err
		}},
		{name: "token past vocab", wantErr: "outside the vocabulary", run: func(t *testing.T) error {
			_, err := newSeq(t, r, 8).Forward(ctx, []int32{1, int32(tinySpec.vocab)})
			return err
		}},
		{name: "negative token", wantErr: "outside the vocabulary", run: func(t *testing.T) error {
			_, err := newSeq(t, r, 8).Hidden(ctx, []int32{-1})
			return err
		}},
		{name: "past max length", wantErr: "exceed the sequence's max length", run: func(t *testing.T) error {
			_, err := newSeq(t, r, 4).Forward(ctx, tokensFor(5, tinySpec.vocab))
			return err
		}},
		{name: "truncate past length", wantErr: "sequence has 3 tokens", run: func(t *testing.T) error {
			s := newSeq(t, r, 8)
			if _, err := s.Forward(ctx, tokensFor(3, tinySpec.vocab)); err != nil {
				t.Fatal(err)
			}
			return s.Truncate(4)
		}},
		{name: "cancelled", wantIs: context.Canceled, run: func(t *testing.T) error {
			_, err := newSeq(t, r, 8).Forward(cancelled, []int32{1})
			return err
		}},
		{name: "after close", wantIs: ErrClosed, run: func(t *testing.T) error {
			s := newSeq(t, r, 8)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			_, err := s.Forward(ctx, []int32{1})
			return err
		}},
		{name: "zero max length", wantErr: "must be positive", run: func(t *testing.T) error {
			_, err := r.NewSequence(0)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(t)
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.wantIs != nil && !errors.Is(err, tt.wantIs):
				t.Fatalf("error %v, want %v", err, tt.wantIs)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("error %q, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func newSeq(t *testing.T, r *runner, maxLen int) *sequence {
	t.Helper()
	s, err := r.NewSequence(maxLen)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s.(*sequence)
}

func TestRunnerClose(t *testing.T) {
	r := newTinyRunner(t, tinySpec, false, false)
	s := newSeq(t, r, 8)
	if _, err := s.Forward(context.Background(), []int32{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Forward(context.Background(), []int32{3}); !errors.Is(err, ErrClosed) {
		t.Errorf("Forward after runner Close: %v, want ErrClosed", err)
	}
	if _, err := r.NewSequence(8); !errors.Is(err, ErrClosed) {
		t.Errorf("NewSequence after Close: %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	ctx := context.Background()
	good := randomWeights(tinySpec, 3, false, false)
	tests := []struct {
		name    string
		spec    spec
		mutate  func(s *spec)
		backend string
		wantErr string
	}{
		{name: "unknown backend", backend: "tpu9000", wantErr: "unknown backend"},
		{name: "layer count", mutate: func(s *spec) { s.layers = 3 }, wantErr: "2 layers, config says 3"},
		{name: "hidden size", mutate: func(s *spec) { s.hidden = 16 }, wantErr: "want"},
		{name: "heads", mutate: func(s *spec) { s.kvHeads = 3 }, wantErr: "invalid heads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tinySpec
			if tt.mutate != nil {
				tt.mutate(&s)
			}
			backend := tt.backend
			if backend == "" {
				backend = "go"
			}
			r, err := newTestRunner(ctx, s, good, Options{Backend: backend})
			if err == nil {
				_ = r.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestXLAWithoutPlugin(t *testing.T) {
	if bestXLAPlugin() != "" {
		t.Skip("a PJRT plugin is installed here")
	}
	if _, _, err := selectBackend("xla"); err == nil {
		t.Fatal("selectBackend(xla) succeeded without a plugin")
	}
	if _, name, err := selectBackend(""); err != nil || name != "gomlx/simplego" {
		t.Fatalf("auto backend = %q, %v; want gomlx/simplego", name, err)
	}
}

func TestHiddenAcrossChunks(t *testing.T) {
	r := newTinyRunner(t, tinySpec, true, true)
	ctx := context.Background()
	toks := tokensFor(70, tinySpec.vocab)
	whole, err := newSeq(t, r, 128).Hidden(ctx, toks)
	if err != nil {
		t.Fatal(err)
	}
	s := newSeq(t, r, 128)
	var parts []float32
	for _, part := range [][]int32{toks[:3], toks[3:67], toks[67:]} {
		h, err := s.Hidden(ctx, part)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, h...)
	}
	if d := maxAbsDiff(whole, parts); d > 1e-4 {
		t.Errorf("hidden states in parts differ from one call by %g", d)
	}
}

func TestBackendLogged(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := newTestRunner(context.Background(), tinySpec,
		randomWeights(tinySpec, 3, false, false), Options{Backend: "go", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := newSeq(t, r, 8).Forward(context.Background(), []int32{1, 2}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`msg="gomlx executor backend" backend=gomlx/simplego`, `msg="gomlx graph compiled and run"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}
