package route

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/mlx-manager/mlx-manager/api/translate"
)

// maxEventLine bounds one SSE line from a backend.
const maxEventLine = 4 << 20

// stream relays a backend's event stream to w, translated by conv, flushing each
// event. The response is committed by the first event sent.
func (r *Router) stream(w http.ResponseWriter, body io.Reader, conv *conversion, res Result, start time.Time) (Result, error) {
	tr := conv.newStream()
	rc := http.NewResponseController(w)
	var buf bytes.Buffer // one write per batch of events, reused
	send := func(evs []translate.Event) error {
		if len(evs) == 0 {
			return nil
		}
		if !res.Committed {
			h := w.Header()
			h.Set("Content-Type", "text/event-stream")
			h.Set("Cache-Control", "no-cache")
			h.Set("X-Accel-Buffering", "no")
			w.WriteHeader(http.StatusOK)
			res.Committed, res.FirstByte = true, r.opts.Now().Sub(start)
		}
		buf.Reset()
		for _, ev := range evs {
			if ev.Name != "" {
				buf.WriteString("event: " + ev.Name + "\n")
			}
			buf.WriteString("data: ")
			buf.Write(ev.Data)
			buf.WriteString("\n\n")
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
		return rc.Flush()
	}
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 4<<10), maxEventLine) // grows for long events; most are short
	var (
		name string
		data bytes.Buffer
	)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if data.Len() == 0 {
				name = ""
				continue
			}
			evs, err := tr.Event(translate.Event{Name: name, Data: bytes.Clone(data.Bytes())})
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
	if err := sc.Err(); err != nil {
		return res, r.streamError(res, fmt.Errorf("read stream: %w", err))
	}
	if data.Len() > 0 { // a last event without its blank line
		evs, err := tr.Event(translate.Event{Name: name, Data: bytes.Clone(data.Bytes())})
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
	return res, nil
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
