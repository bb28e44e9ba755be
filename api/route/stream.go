package route

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/mlx-manager/mlx-manager/api/translate"
)

// maxEventLine bounds one SSE line from a backend.
const maxEventLine = 4 << 20

// A relayed stream's header values, shared: net/http only reads them, and a
// later Add copies (each has no room to grow).
var (
	eventStreamType = []string{"text/event-stream"}
	noCache         = []string{"no-cache"}
	no              = []string{"no"}
)

// relayBuffers are what one relayed stream reads and writes with. They are pooled: a
// 4 KiB line reader per stream was a fifth of what a routed request allocated,
// and the two buffers grew again from nothing for each stream.
type relayBuffers struct {
	br   *bufio.Reader
	buf  bytes.Buffer // one write per batch of events
	data bytes.Buffer // the event being read
}

var relayPool = sync.Pool{New: func() any { return &relayBuffers{br: bufio.NewReaderSize(nil, 4<<10)} }}

// maxPooledBuffer is the largest buffer kept in relayPool: a rare
// long event must not stay in memory for every stream after it.
const maxPooledBuffer = 64 << 10

// stream relays a backend's event stream to w, translated by conv. The
// response is committed by the first event sent. Each event is flushed at once
// unless another whole event of the backend's is already read: those go in the
// same write, one system call instead of several for a backend (or a loaded
// machine) that hands over events in bursts, and never a wait for one.
//
// With lastWrite, what is left once the backend's body has ended is not
// flushed: it is all read already, and the caller's response ends at once.
func (r *Router) stream(w http.ResponseWriter, body io.Reader, conv *conversion, res Result, start time.Time, lastWrite bool) (Result, error) {
	tr := conv.newStream()
	rc := http.NewResponseController(w)
	rl := relayPool.Get().(*relayBuffers)
	br, buf, data := rl.br, &rl.buf, &rl.data
	src := &endReader{r: body}
	br.Reset(src)
	defer func() {
		br.Reset(nil) // holds no stream while pooled
		if buf.Cap() <= maxPooledBuffer && data.Cap() <= maxPooledBuffer {
			buf.Reset()
			data.Reset()
			relayPool.Put(rl)
		}
	}()
	var (
		pending bool   // written but not flushed
		name    string // the event being read
		long    []byte // a line longer than br's buffer
	)
	// event is the one being read, to translate: a copy unless conv lends.
	event := func() translate.Event {
		if conv.lends {
			return translate.Event{Name: name, Data: data.Bytes()}
		}
		return translate.Event{Name: name, Data: bytes.Clone(data.Bytes())}
	}
	send := func(evs []translate.Event) error {
		if len(evs) == 0 {
			return nil
		}
		if !res.Committed {
			h := w.Header()
			h["Content-Type"] = eventStreamType // Set's []string{v} each, three allocations a stream
			h["Cache-Control"] = noCache
			h["X-Accel-Buffering"] = no
			w.WriteHeader(http.StatusOK)
			res.Committed, res.FirstByte = true, r.opts.Now().Sub(start)
		}
		buf.Reset()
		for _, ev := range evs {
			if ev.Name != "" {
				buf.WriteString("event: ")
				buf.WriteString(ev.Name)
				buf.WriteByte('\n')
			}
			buf.WriteString("data: ")
			buf.Write(ev.Data)
			buf.WriteString("\n\n")
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
		pending = true
		return nil
	}
	// flush sends what was written unless another whole event is read already:
	// it runs before every read that could wait on the backend.
	flush := func(force bool) error {
		if !pending || !force && (eventBuffered(br, data.Len() > 0) || lastWrite && src.ended) {
			return nil
		}
		pending = false
		return rc.Flush()
	}
	// On a failure too: what was written goes before the caller's error event
	// (a failed write was returned already).
	defer func() { _ = flush(true) }()
	for {
		if err := flush(false); err != nil {
			return res, fmt.Errorf("write stream: %w", err)
		}
		line, err := readLine(br, &long)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, r.streamError(res, fmt.Errorf("read stream: %w", err))
		}
		switch {
		case len(line) == 0:
			if data.Len() == 0 {
				name = ""
				continue
			}
			evs, err := tr.Event(event())
			name = ""
			data.Reset()
			res.Usage = tr.Usage()
			if err != nil {
				return res, r.streamError(res, err)
			}
			if err := send(evs); err != nil {
				return res, fmt.Errorf("write stream: %w", err)
			}
		case bytes.HasPrefix(line, []byte("event:")):
			name = string(bytes.TrimSpace(line[len("event:"):]))
		case bytes.HasPrefix(line, []byte("data:")):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.Write(bytes.TrimPrefix(line[len("data:"):], []byte(" ")))
		}
	}
	if data.Len() > 0 { // a last event without its blank line
		evs, err := tr.Event(event())
		if err != nil {
			return res, r.streamError(res, err)
		}
		if err := send(evs); err != nil {
			return res, fmt.Errorf("write stream: %w", err)
		}
	}
	res.Usage = tr.Usage()
	evs, err := tr.End()
	if err != nil {
		return res, r.streamError(res, err)
	}
	if err := send(evs); err != nil {
		return res, fmt.Errorf("write stream: %w", err)
	}
	if lastWrite {
		pending = false // the end of the caller's response flushes it
		return res, nil
	}
	if err := flush(true); err != nil {
		return res, fmt.Errorf("write stream: %w", err)
	}
	return res, nil
}

// endReader notes when its reader has ended: what is left of the stream is
// then in the bufio.Reader, and reading it never waits on the backend.
type endReader struct {
	r     io.Reader
	ended bool
}

func (e *endReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.ended = true
	}
	return n, err
}

// eventBuffered reports whether br holds the end of an event already (of the
// one being read when midEvent, else of the next), so that what is written may
// wait for it without waiting on the backend.
func eventBuffered(br *bufio.Reader, midEvent bool) bool {
	b, _ := br.Peek(br.Buffered())
	if midEvent && (bytes.HasPrefix(b, []byte("\n")) || bytes.HasPrefix(b, []byte("\r\n"))) {
		return true
	}
	return bytes.Contains(bytes.TrimLeft(b, "\r\n"), []byte("\n\n"))
}

// errLineTooLong is a backend's SSE line past maxEventLine.
var errLineTooLong = fmt.Errorf("an event line longer than %d bytes", maxEventLine)

// readLine returns br's next line without its "\n" or "\r\n", as
// bufio.ScanLines does: the last one may end without a newline, and io.EOF comes
// after it. A line longer than br's buffer is gathered in *long.
func readLine(br *bufio.Reader, long *[]byte) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		*long = append((*long)[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = br.ReadSlice('\n')
			if *long = append(*long, line...); len(*long) > maxEventLine {
				return nil, errLineTooLong
			}
		}
		line = *long
	}
	switch {
	case errors.Is(err, io.EOF) && len(line) == 0:
		return nil, io.EOF
	case err != nil && !errors.Is(err, io.EOF):
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// errStreamBroken is a backend stream that failed half-way.
var errStreamBroken = errors.New("backend stream broken")

// streamError is a failed stream: before the first event another target may try
// (retryable); after, the caller can only end the stream with an error event.
func (r *Router) streamError(res Result, err error) error {
	if !res.Committed {
		return &retryable{err}
	}
	var relayed *relayedError
	return &Error{Status: http.StatusBadGateway, Backend: res.Backend, Relayed: errors.As(err, &relayed),
		Message: fmt.Sprintf("backend %s: %v: %v", res.Backend, errStreamBroken, err)}
}
