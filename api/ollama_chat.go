package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/ollama"
	"github.com/mlx-manager/mlx-manager/api/route"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// handleOllamaChat is POST /api/chat: NDJSON lines of the answer then a done
// line with the metrics, or (stream: false) one object.
func (s *Server) handleOllamaChat(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	var req ollama.ChatRequest
	if err := decodeOllama(c, &req); err != nil {
		return err
	}
	if len(req.Messages) > 0 { // a load-only request is for this machine's models
		handled, local, err := s.routeOllama(c, ollamaRemote{kind: "chat", model: req.Model, stream: ollama.Streaming(req.Stream),
			build: func() ([]byte, string, error) {
				b, err := req.OpenAIChat(req.Model)
				return b, route.OpenAIChat, err
			}})
		if handled {
			return err
		}
		req.Model = cmp.Or(local, req.Model)
	}
	d, err := s.ollamaResolve(c, eng, req.Model)
	if err != nil {
		return err
	}
	chat, err := req.Engine(d)
	if err != nil {
		return ollamaError(err)
	}
	if len(req.Messages) == 0 {
		return s.ollamaLoadOnly(c, eng, req.Model, chat.Model, chat.Options.KeepAlive, func(reason string, load time.Duration) any {
			return ollama.ChatResponse{Model: req.Model, CreatedAt: s.now().UTC(), Message: ollama.Message{Role: "assistant"},
				Done: true, DoneReason: reason, Metrics: &ollama.Metrics{TotalDuration: int64(load), LoadDuration: int64(load)}}
		})
	}
	if !ollama.Streaming(req.Stream) {
		load, err := ollamaLoad(c.Request().Context(), eng, chat.Model)
		if err != nil {
			return engineError(req.Model, err)
		}
		res, err := eng.Chat(c.Request().Context(), chat, nil)
		if err != nil {
			v1Failed(c, res)
			return engineError(req.Model, err)
		}
		v1Usage(c, res.Model, res.Usage, load+res.TTFT)
		return c.JSON(http.StatusOK, ollama.ChatFrom(req.Model, s.now(), res, load))
	}
	st := s.newNDJSON(c)
	defer st.close()
	load, err := ollamaLoad(st.ctx, eng, chat.Model)
	if err != nil {
		return st.failed(s, req.Model, err)
	}
	// Each tool call goes whole in a chunk of its own once complete, as Ollama streams them.
	calls := ollama.NewToolCallStream()
	sendCall := func(tc ollama.ToolCall) error {
		return st.send(ollama.ChatResponse{Model: req.Model, CreatedAt: s.now().UTC(),
			Message: ollama.Message{Role: "assistant", ToolCalls: []ollama.ToolCall{tc}}})
	}
	res, err := eng.Chat(st.ctx, chat, func(dl engine.Delta) error {
		if err := st.ctx.Err(); err != nil {
			return err
		}
		markFirstToken(c)
		for _, tc := range calls.Add(dl.ToolCalls) {
			if err := sendCall(tc); err != nil {
				return err
			}
		}
		if dl.Content == "" && dl.Reasoning == "" {
			return nil
		}
		return st.send(ollama.ChatResponse{Model: req.Model, CreatedAt: s.now().UTC(),
			Message: ollama.Message{Role: "assistant", Content: dl.Content, Thinking: dl.Reasoning}})
	})
	if err != nil {
		v1Failed(c, res)
		return st.failed(s, req.Model, err)
	}
	v1Usage(c, res.Model, res.Usage, load+res.TTFT)
	for _, tc := range calls.Finish(res.ToolCalls) {
		if err := sendCall(tc); err != nil {
			return err
		}
	}
	done := ollama.ChatFrom(req.Model, s.now(), res, load)
	done.Message = ollama.Message{Role: "assistant"}
	return st.send(done)
}

// handleOllamaGenerate is POST /api/generate: the prompt as a user turn under
// the model's chat template (with system), or with raw as a plain completion.
func (s *Server) handleOllamaGenerate(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	var req ollama.GenerateRequest
	if err := decodeOllama(c, &req); err != nil {
		return err
	}
	if req.Prompt != "" {
		handled, local, err := s.routeOllama(c, ollamaRemote{kind: "generate", model: req.Model, stream: ollama.Streaming(req.Stream),
			build: func() ([]byte, string, error) {
				b, chat, err := req.OpenAIRequest(req.Model)
				if !chat {
					return b, route.OpenAICompletions, err
				}
				return b, route.OpenAIChat, err
			}})
		if handled {
			return err
		}
		req.Model = cmp.Or(local, req.Model)
	}
	d, err := s.ollamaResolve(c, eng, req.Model)
	if err != nil {
		return err
	}
	gen, err := req.Engine(d)
	if err != nil {
		return ollamaError(err)
	}
	id, opts := d.Model, engine.GenOptions{}
	if gen.Chat != nil {
		opts = gen.Chat.Options
	} else {
		opts = gen.Complete.Options
	}
	if req.Prompt == "" {
		return s.ollamaLoadOnly(c, eng, req.Model, id, opts.KeepAlive, func(reason string, load time.Duration) any {
			return ollama.GenerateResponse{Model: req.Model, CreatedAt: s.now().UTC(), Done: true, DoneReason: reason,
				Metrics: &ollama.Metrics{TotalDuration: int64(load), LoadDuration: int64(load)}}
		})
	}
	run := func(ctx context.Context, emit func(engine.Delta) error) (*engine.Result, error) {
		if gen.Chat != nil {
			return eng.Chat(ctx, *gen.Chat, emit)
		}
		return eng.Complete(ctx, *gen.Complete, emit)
	}
	if !ollama.Streaming(req.Stream) {
		load, err := ollamaLoad(c.Request().Context(), eng, id)
		if err != nil {
			return engineError(req.Model, err)
		}
		res, err := run(c.Request().Context(), nil)
		if err != nil {
			v1Failed(c, res)
			return engineError(req.Model, err)
		}
		v1Usage(c, res.Model, res.Usage, load+res.TTFT)
		return c.JSON(http.StatusOK, ollama.GenerateFrom(req.Model, s.now(), res, load))
	}
	st := s.newNDJSON(c)
	defer st.close()
	load, err := ollamaLoad(st.ctx, eng, id)
	if err != nil {
		return st.failed(s, req.Model, err)
	}
	res, err := run(st.ctx, func(dl engine.Delta) error {
		if err := st.ctx.Err(); err != nil {
			return err
		}
		markFirstToken(c)
		if dl.Content == "" && dl.Reasoning == "" {
			return nil
		}
		return st.send(ollama.GenerateResponse{Model: req.Model, CreatedAt: s.now().UTC(), Response: dl.Content, Thinking: dl.Reasoning})
	})
	if err != nil {
		v1Failed(c, res)
		return st.failed(s, req.Model, err)
	}
	v1Usage(c, res.Model, res.Usage, load+res.TTFT)
	done := ollama.GenerateFrom(req.Model, s.now(), res, load)
	done.Response, done.Thinking = "", ""
	return st.send(done)
}

// handleOllamaEmbed is POST /api/embed.
func (s *Server) handleOllamaEmbed(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	var req ollama.EmbedRequest
	if err := decodeOllama(c, &req); err != nil {
		return err
	}
	handled, local, err := s.routeOllama(c, ollamaRemote{kind: "embed", model: req.Model,
		build: func() ([]byte, string, error) {
			b, err := req.OpenAIEmbeddings(req.Model)
			return b, route.OpenAIEmbeddings, err
		}})
	if handled {
		return err
	}
	req.Model = cmp.Or(local, req.Model)
	d, err := s.ollamaResolve(c, eng, req.Model)
	if err != nil {
		return err
	}
	inputs, err := req.Inputs()
	if err != nil {
		return ollamaError(err)
	}
	if req.Dimensions < 0 {
		return &Error{Kind: engine.KindInvalid, Code: "invalid_value", Param: "dimensions", Message: "dimensions must be >= 0"}
	}
	keepAlive := d.KeepAlive
	if len(req.KeepAlive) > 0 && string(req.KeepAlive) != "null" {
		ka, err := ollama.ParseKeepAlive(req.KeepAlive)
		if err != nil {
			return &Error{Kind: engine.KindInvalid, Code: "invalid_value", Param: "keep_alive", Message: "keep_alive: " + err.Error()}
		}
		keepAlive = &ka
	}
	load, err := ollamaLoad(c.Request().Context(), eng, d.Model)
	if err != nil {
		return engineError(req.Model, err)
	}
	start := time.Now()
	// Ollama truncates unless told not to.
	truncate := req.Truncate == nil || *req.Truncate
	res, err := eng.Embed(c.Request().Context(), engine.EmbedRequest{Model: d.Model, Inputs: inputs, Dimensions: req.Dimensions, Truncate: truncate})
	if err != nil {
		return engineError(req.Model, err)
	}
	v1Usage(c, res.Model, engine.Usage{PromptTokens: res.PromptTokens}, 0)
	if keepAlive != nil {
		// Embed keeps the pool's TTL; the model is loaded, so this only sets its TTL from now on.
		if err := eng.Load(c.Request().Context(), d.Model, engine.LoadOptions{TTL: keepAlive}); err != nil {
			return engineError(req.Model, err)
		}
	}
	return c.JSON(http.StatusOK, ollama.EmbedResponse{Model: req.Model, Embeddings: res.Vectors,
		TotalDuration: int64(load + time.Since(start)), LoadDuration: int64(load), PromptEvalCount: res.PromptTokens})
}

// handleOllamaEmbeddings is the older POST /api/embeddings: one prompt, one vector.
func (s *Server) handleOllamaEmbeddings(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	var req struct {
		Model  string `json:"model"`
		Prompt string `json:"prompt"`
	}
	if err := decodeOllama(c, &req); err != nil {
		return err
	}
	d, err := s.ollamaResolve(c, eng, req.Model)
	if err != nil {
		return err
	}
	// Truncated to the model's length, as /api/embed does by default.
	res, err := eng.Embed(c.Request().Context(), engine.EmbedRequest{Model: d.Model, Inputs: []string{req.Prompt}, Truncate: true})
	if err != nil {
		return engineError(req.Model, err)
	}
	v1Usage(c, res.Model, engine.Usage{PromptTokens: res.PromptTokens}, 0)
	return c.JSON(http.StatusOK, map[string][]float32{"embedding": res.Vectors[0]})
}

// handleOllamaCopy is POST /api/copy. Models are not copied (the files would
// be the same): the destination becomes a profile running the source, with the
// source profile's settings when the source is one.
func (s *Server) handleOllamaCopy(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	var req ollama.CopyRequest
	if err := decodeOllama(c, &req); err != nil {
		return err
	}
	req.Destination = strings.TrimSpace(req.Destination)
	if err := checkProfileName(req.Destination); err != nil {
		return err
	}
	if err := s.profileAllowed(c); err != nil {
		return err
	}
	var p store.Profile
	if src, err := s.store.Profiles().ByName(req.Source); err == nil && profileVisible(c, src) {
		p = src
		p.AutoStart, p.Shared = false, false
	} else {
		d, err := s.ollamaResolve(c, eng, req.Source)
		if err != nil {
			return err
		}
		p = store.Profile{Model: d.Model}
	}
	u, _ := currentUser(c)
	p.Name, p.OwnerID = req.Destination, u.ID
	created, err := s.store.Profiles().Create(p)
	if errors.Is(err, store.ErrConflict) {
		return &Error{Status: http.StatusConflict, Code: "name_taken", Param: "destination",
			Message: fmt.Sprintf("destination %q already exists", req.Destination)}
	}
	if err != nil {
		return profileError(err)
	}
	s.audit(c, store.AuditEvent{Action: "profile.copy", Target: created.ID, Model: created.Model, Detail: req.Source + " -> " + created.Name})
	return c.NoContent(http.StatusOK)
}
