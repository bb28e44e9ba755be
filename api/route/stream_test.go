package route

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api/translate"
)

func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", 10_000) // past the reader's buffer
	br := bufio.NewReaderSize(strings.NewReader("a\r\n\n"+long+"\nlast"), 16)
	var buf []byte
	for _, want := range []string{"a", "", long, "last"} {
		line, err := readLine(br, &buf)
		if err != nil || string(line) != want {
			t.Fatalf("readLine = %.20q, %v; want %.20q", line, err, want)
		}
	}
	if _, err := readLine(br, &buf); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last line: %v, want io.EOF", err)
	}
	br = bufio.NewReaderSize(strings.NewReader(strings.Repeat("y", maxEventLine+100)), 4096)
	if _, err := readLine(br, &buf); !errors.Is(err, errLineTooLong) {
		t.Fatalf("a line past the limit: %v, want errLineTooLong", err)
	}
}

// flushRecorder is a ResponseWriter that reports what had been written at each flush.
type flushRecorder struct {
	header  http.Header
	body    bytes.Buffer
	flushes chan string
}

func newFlushRecorder() *flushRecorder {
	return &flushRecorder{header: http.Header{}, flushes: make(chan string, 16)}
}

func (f *flushRecorder) Header() http.Header         { return f.header }
func (f *flushRecorder) Write(p []byte) (int, error) { return f.body.Write(p) }
func (f *flushRecorder) WriteHeader(int)             {}
func (f *flushRecorder) Flush()                      { f.flushes <- f.body.String() }

func relay(t *testing.T, w http.ResponseWriter, body io.Reader, lastWrite bool) <-chan error {
	t.Helper()
	r := New(Options{})
	conv := &conversion{newStream: func() translate.Stream { return &passThrough{} }}
	done := make(chan error, 1)
	go func() {
		_, err := r.stream(w, body, conv, Result{Backend: "b"}, time.Now(), lastWrite)
		done <- err
	}()
	return done
}

// Events the backend handed over together go out in one write; an event with
// nothing more read behind it goes out at once, whatever follows it.
func TestStreamFlushes(t *testing.T) {
	t.Run("a burst is one flush", func(t *testing.T) {
		w := newFlushRecorder()
		stream := "data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n"
		if err := <-relay(t, w, strings.NewReader(stream), false); err != nil {
			t.Fatal(err)
		}
		if got := <-w.flushes; got != stream {
			t.Fatalf("first flush sent %q, want the whole burst", got)
		}
		if len(w.flushes) != 0 {
			t.Fatalf("%d more flushes after the burst", len(w.flushes))
		}
	})
	t.Run("no event waits for the next", func(t *testing.T) {
		w := newFlushRecorder()
		pr, pw := io.Pipe()
		done := relay(t, w, pr, false)
		// Each write ends where the backend pauses: what was written must be
		// flushed before the next arrives. A comment or a partial event behind an
		// event does not hold it back.
		sent := ""
		for _, part := range []string{"data: {\"a\":1}\n\n", "data: {\"b\":2}\n\n: keep-alive\n\n", "data: {\"c\":3}\n\ndata: {\"d\"", ":4}\n\n", "data: [DONE]\n\n"} {
			if _, err := io.WriteString(pw, part); err != nil {
				t.Fatal(err)
			}
			sent += part
			want := strings.ReplaceAll(sent, ": keep-alive\n\n", "")
			if i := strings.LastIndex(want, "\n\n"); i >= 0 {
				want = want[:i+2]
			}
			if got := <-w.flushes; got != want {
				t.Fatalf("after %q the client has %q, want %q", part, got, want)
			}
		}
		pw.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// partsReader hands over the parts sent on its channel one Read each; a part
// ending in "<EOF>" comes with io.EOF, as a chunked body's last data does when
// its terminator arrived with it.
type partsReader chan string

func (p partsReader) Read(b []byte) (int, error) {
	part, ok := <-p
	if !ok {
		return 0, io.EOF
	}
	if last, ok := strings.CutSuffix(part, "<EOF>"); ok {
		return copy(b, last), io.EOF
	}
	return copy(b, part), nil
}

// With lastWrite, the events read together with the backend's end are written
// but left for the end of the response to send; an event the backend may
// still follow with more is flushed at once as always.
func TestStreamLastWrite(t *testing.T) {
	for _, lastWrite := range []bool{false, true} {
		w := newFlushRecorder()
		parts := make(partsReader)
		done := relay(t, w, parts, lastWrite)
		parts <- "data: {\"a\":1}\n\n"
		if got := <-w.flushes; got != "data: {\"a\":1}\n\n" {
			t.Fatalf("lastWrite %v: first flush %q", lastWrite, got)
		}
		parts <- "data: {\"b\":2}\n\ndata: [DONE]\n\n<EOF>"
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		all := "data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n"
		if w.body.String() != all {
			t.Fatalf("lastWrite %v: the client has %q", lastWrite, w.body.String())
		}
		switch {
		case lastWrite && len(w.flushes) != 0:
			t.Errorf("lastWrite: the stream's end was flushed (%q), not left to the response's end", <-w.flushes)
		case !lastWrite && len(w.flushes) != 1:
			t.Errorf("without lastWrite: %d flushes of the end, want 1", len(w.flushes))
		}
	}
	// A stream whose body fails after its end was seen still flushes what it wrote.
	w := newFlushRecorder()
	parts := make(partsReader)
	done := relay(t, w, parts, true)
	parts <- "data: {\"a\":1}\n\n<EOF>" // no [DONE]: the stream is cut short
	if err := <-done; err == nil {
		t.Fatal("a stream cut before [DONE] succeeded")
	}
	if got := <-w.flushes; got != "data: {\"a\":1}\n\n" {
		t.Fatalf("before the error the client has %q", got)
	}
}
