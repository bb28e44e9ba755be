package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/ollama"
	"github.com/mlx-manager/mlx-manager/api/route"
)

// Ollama's /api/chat, /api/generate and /api/embed go through the routing
// rules and backends as /v1 does (v1route.go). Backends speak OpenAI's API
// (the router translates onwards to Anthropic's), so the Ollama request is
// converted to OpenAI's (api/ollama/remote.go) and the answer, streamed or
// whole, is written back in Ollama's shape by ollamaWriter.

// ollamaRemote is one Ollama request a backend may answer.
type ollamaRemote struct {
	kind   string // "chat", "generate" or "embed": the shape of the answer
	model  string // the name the client asked for
	stream bool
	// build is the OpenAI body for the backend and its protocol (route.OpenAIChat, ...).
	build func() ([]byte, string, error)
}

// routeOllama serves r through a backend when a routing rule or a backend's
// model list claims its model; handled is false when the local engine serves
// it, with local naming the model to use ("" = the client's).
func (s *Server) routeOllama(c echo.Context, r ollamaRemote) (handled bool, local string, err error) {
	if !s.router.Active() {
		return false, "", nil
	}
	targets, ok := s.router.Targets(r.model, func(m string) bool { return s.servedLocally(c, m) })
	if !ok {
		return false, "", nil
	}
	if targets, err = s.permittedTargets(c, r.model, targets); err != nil {
		return true, "", err
	}
	body, proto, err := r.build()
	if err != nil {
		return true, "", ollamaError(err)
	}
	rec := auditRecord(c)
	rec.Model = r.model
	w := &ollamaWriter{s: s, c: c, r: r, start: s.now(), hdr: http.Header{}}
	if r.stream {
		w.st = s.newNDJSON(c)
		defer w.st.close()
	}
	res, err := s.router.Serve(c.Request().Context(), w, &route.Request{
		Protocol: proto, Body: body, Header: c.Request().Header, Targets: targets})
	if res.Local {
		return false, res.Model, nil
	}
	rec.Backend = res.Backend
	rec.PromptTokens += res.Usage.Input
	rec.CompletionTokens += res.Usage.Output
	if res.FirstByte > 0 && rec.TTFTMS == 0 {
		rec.TTFTMS = millis(res.FirstByte)
	}
	if err == nil {
		err = w.finish()
	}
	switch {
	case err == nil:
		return true, "", nil
	case c.Request().Context().Err() != nil:
		return true, "", c.Request().Context().Err()
	case w.st == nil || !w.st.isCommitted():
		return true, "", routeError(err)
	}
	// The stream had started: the error can only be its last line.
	e := toError(routeError(err))
	rec.ErrorType, rec.ErrorMessage = e.Type, e.Message
	s.log.Warn("routed stream failed", "request_id", requestID(c), "backend", res.Backend, "err", err)
	return true, "", w.st.send(ollama.ErrorResponse{Error: e.Message})
}

// ollamaWriter is the http.ResponseWriter the router writes a backend's
// OpenAI answer to: a whole answer is kept for finish, a stream's SSE lines
// become Ollama's NDJSON lines as they come.
type ollamaWriter struct {
	s     *Server
	c     echo.Context
	r     ollamaRemote
	start time.Time
	hdr   http.Header
	buf   []byte // the whole answer, or a stream's unfinished line
	ans   ollama.RemoteAnswer
	st    *ndjsonStream // for a stream
}

func (w *ollamaWriter) Header() http.Header { return w.hdr }
func (w *ollamaWriter) WriteHeader(int)     {}
func (w *ollamaWriter) Flush()              {} // each NDJSON line is flushed as it is sent

func (w *ollamaWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if w.st == nil {
		if len(w.buf) > maxRoutedAnswer {
			return 0, fmt.Errorf("the backend's answer exceeds %d bytes", maxRoutedAnswer)
		}
		return len(p), nil
	}
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := bytes.TrimSpace(w.buf[:i])
		w.buf = w.buf[i+1:]
		if err := w.sseLine(line); err != nil {
			return 0, err
		}
	}
}

// maxRoutedAnswer bounds a whole (not streamed) answer held for conversion.
const maxRoutedAnswer = 64 << 20

// sseLine turns one line of an OpenAI stream into Ollama's line, if it says anything.
func (w *ollamaWriter) sseLine(line []byte) error {
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok {
		return nil
	}
	data = bytes.TrimSpace(data)
	if string(data) == "[DONE]" {
		return nil
	}
	var chunk ollama.OpenAIChunk
	if err := json.Unmarshal(data, &chunk); err != nil {
		return fmt.Errorf("read the backend's stream: %w", err)
	}
	content, thinking := w.ans.Add(chunk)
	if content == "" && thinking == "" {
		return nil
	}
	markFirstToken(w.c)
	now := w.s.now().UTC()
	if w.r.kind == "generate" {
		return w.st.send(ollama.GenerateResponse{Model: w.r.model, CreatedAt: now, Response: content, Thinking: thinking})
	}
	return w.st.send(ollama.ChatResponse{Model: w.r.model, CreatedAt: now,
		Message: ollama.Message{Role: "assistant", Content: content, Thinking: thinking}})
}

// finish writes what follows the backend's answer: the tool calls and done
// line of a stream, or the whole answer.
func (w *ollamaWriter) finish() error {
	now := w.s.now()
	total := now.Sub(w.start)
	if w.r.kind == "embed" {
		out, err := ollama.EmbedFrom(w.r.model, w.buf, total)
		if err != nil {
			return err
		}
		return w.c.JSON(http.StatusOK, out)
	}
	if w.st == nil {
		var chunk ollama.OpenAIChunk
		if err := json.Unmarshal(w.buf, &chunk); err != nil {
			return fmt.Errorf("read the backend's answer: %w", err)
		}
		w.ans.Add(chunk)
	}
	var done any
	if w.r.kind == "generate" {
		g := ollama.GenerateResponse{Model: w.r.model, CreatedAt: now.UTC(), Done: true, DoneReason: w.ans.DoneReason(), Metrics: w.ans.Metrics(total)}
		if w.st == nil {
			g.Response, g.Thinking = w.ans.Content, w.ans.Thinking
		}
		done = g
	} else {
		ch := ollama.ChatResponse{Model: w.r.model, CreatedAt: now.UTC(), Message: ollama.Message{Role: "assistant"},
			Done: true, DoneReason: w.ans.DoneReason(), Metrics: w.ans.Metrics(total)}
		calls := w.ans.ToolCalls()
		switch {
		case w.st == nil:
			ch.Message.Content, ch.Message.Thinking, ch.Message.ToolCalls = w.ans.Content, w.ans.Thinking, calls
		default:
			for _, tc := range calls {
				if err := w.st.send(ollama.ChatResponse{Model: w.r.model, CreatedAt: now.UTC(),
					Message: ollama.Message{Role: "assistant", ToolCalls: []ollama.ToolCall{tc}}}); err != nil {
					return err
				}
			}
		}
		done = ch
	}
	if w.st == nil {
		return w.c.JSON(http.StatusOK, done)
	}
	return w.st.send(done)
}
