package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// maxV1Body bounds /v1 request bodies: long chats fit, runaway uploads do not.
const maxV1Body = 4 << 20

// v1Routes registers the OpenAI- and Anthropic-compatible API.
func (s *Server) v1Routes() {
	e, v1 := s.echo, s.v1Chain()
	e.GET("/v1/models", s.handleV1Models, v1...)
	e.GET("/v1/models/*", s.handleV1Model, v1...) // ids hold a slash: "org/name"
	e.POST("/v1/chat/completions", s.handleChatCompletions, v1...)
	e.POST("/v1/completions", s.handleCompletions, v1...)
	e.POST("/v1/embeddings", s.handleEmbeddings, v1...)
	e.POST("/v1/rerank", s.handleRerank, v1...)
	e.POST("/rerank", s.handleRerank, v1...)
	e.POST("/v1/messages", s.handleMessages, v1...)
	e.POST("/v1/responses", s.handleCreateResponse, v1...)
	e.GET("/v1/responses/:id", s.handleGetResponse, v1...)
	e.DELETE("/v1/responses/:id", s.handleDeleteResponse, v1...)
}

// decodeV1 reads a /v1 body (at most maxV1Body, else 413) and decodes it strictly
// into one of api/openai's request types.
func decodeV1(c echo.Context, v any) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	return v1Error(openai.Decode(b, v))
}

// v1Engine is the engine, or a 503 when the daemon runs without one.
func (s *Server) v1Engine() (*engine.Engine, error) {
	if s.opts.Engine == nil {
		return nil, errNoEngine()
	}
	return s.opts.Engine, nil
}

// v1Defaults resolves a request's model field: a profile (by name, then by id)
// gives its model and defaults; anything else must be a model id of the models
// dir ("org/name"), never a folder path.
func (s *Server) v1Defaults(c echo.Context, name string) (openai.Defaults, error) {
	if name == "" {
		return openai.Defaults{}, nil // the conversion names the missing field
	}
	p, ok, err := s.store.Profiles().Find(name)
	switch {
	case err != nil:
		return openai.Defaults{}, fmt.Errorf("look up profile %q: %w", name, err)
	case ok && !profileVisible(c, p):
		return openai.Defaults{}, modelNotFound(name)
	case ok:
		return profileDefaults(p), nil
	case !engine.IsModelRef(name):
		return openai.Defaults{}, modelNotFound(name)
	}
	return openai.Defaults{}, nil
}

func profileDefaults(p store.Profile) openai.Defaults {
	return openai.Defaults{Model: p.Model, SystemPrompt: p.SystemPrompt, Temperature: p.Temperature, TopP: p.TopP,
		MaxTokens: p.MaxTokens, ContextLength: p.ContextLength, ToolFormat: p.ToolFormat, KeepAlive: p.KeepAlive()}
}

func modelNotFound(name string) *Error {
	return &Error{Kind: engine.KindNotFound, Code: "model_not_found", Param: "model",
		Message: fmt.Sprintf("the model %q does not exist: name a downloaded model (org/name) or a profile", name)}
}

// v1Error adds to an engine error what /v1 clients read besides its kind: the
// request field at fault. The status and code come from the error table.
func v1Error(err error) error {
	if err == nil {
		return nil
	}
	var (
		e  *Error
		pe *openai.ParamError
		ie *engine.InvalidError
	)
	switch {
	case errors.As(err, &e), errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &pe):
		return &Error{Kind: engine.KindInvalid, Code: pe.Code, Param: pe.Param, Message: pe.Error()}
	}
	c, ok := engine.Classify(err)
	if !ok {
		return err
	}
	mapped := classify(err)
	switch {
	case errors.As(err, &ie):
		mapped.Param = ie.Param
	case c.Kind == engine.KindContextLength:
		mapped.Param = "messages"
	case c.Code == "model_not_found", c.Code == "model_not_supported":
		mapped.Param = "model"
	}
	return mapped
}

// engineError is v1Error for the engine's answer to a request for model: an
// unknown model is named as the client named it (the engine's message would show
// the models dir, which is none of the client's business).
func engineError(model string, err error) error {
	if errors.Is(err, engine.ErrModelNotFound) {
		e := modelNotFound(model)
		e.Err = err
		return e
	}
	return v1Error(err)
}

// errShuttingDown ends a stream the server cut short.
func errShuttingDown() *Error {
	return &Error{Kind: engine.KindUnavailable, Code: "shutting_down", Message: "the server is shutting down"}
}

// v1Usage records a finished request's tokens in its audit event.
func v1Usage(c echo.Context, model string, u engine.Usage, ttft time.Duration) {
	rec := auditRecord(c)
	rec.Model = model
	rec.PromptTokens += u.PromptTokens
	rec.CompletionTokens += u.CompletionTokens
	if rec.TTFTMS == 0 && ttft > 0 {
		rec.TTFTMS = millis(ttft)
	}
}

// v1Converter is a decoded /v1 body: it converts to engine requests under a
// profile's defaults.
type v1Converter[T any] interface {
	Engine(openai.Defaults) (T, error)
}

// prepareV1 is how every /v1 handler starts: decode the body into req, resolve
// the model it names (a profile's defaults apply), convert it, and record the
// model for the audit. name reads the model field of the decoded req; resolved
// the model id the conversion chose.
func prepareV1[T any](s *Server, c echo.Context, req v1Converter[T], name func() string, resolved func(T) string) (*engine.Engine, T, error) {
	var zero T
	eng, err := s.v1Engine()
	if err != nil {
		return nil, zero, err
	}
	if err := decodeV1(c, req); err != nil {
		return nil, zero, err
	}
	if err := s.fetchImageURLs(c.Request().Context(), req); err != nil { // imagefetch.go
		return nil, zero, err
	}
	auditRecord(c).Model = name()
	d, err := s.v1Defaults(c, name())
	if err != nil {
		return nil, zero, err
	}
	out, err := req.Engine(d)
	if err != nil {
		return nil, zero, v1Error(err)
	}
	auditRecord(c).Model = resolved(out)
	return eng, out, nil
}

// v1Failed records what a failed generation had done: the engine returns its
// partial result (real token counts of a cancelled stream) with the error.
func v1Failed(c echo.Context, res *engine.Result) {
	if res != nil {
		v1Usage(c, res.Model, res.Usage, res.TTFT)
	}
}

// streamFailed ends a stream whose generation failed. Before anything was sent
// the client still gets a proper HTTP error; after, the error goes in the stream
// (writeErr) and the audit event records it. A client that left gets nothing.
func streamFailed(c echo.Context, st *sseStream, model string, err error, writeErr func(*Error) error) error {
	st.stop()
	if cerr := c.Request().Context().Err(); cerr != nil {
		return cerr
	}
	if st.shuttingDown() {
		err = errShuttingDown()
	}
	mapped := engineError(model, err)
	if !st.isCommitted() {
		return mapped
	}
	e := toError(mapped)
	rec := auditRecord(c)
	rec.ErrorType, rec.ErrorMessage = e.Type, e.Message
	if werr := writeErr(e); werr != nil {
		return werr
	}
	return nil
}

// openaiStreamError is an error in an OpenAI stream: the envelope as a data line,
// which the SDKs raise as an APIError.
func openaiStreamError(st *sseStream) func(*Error) error {
	return func(e *Error) error {
		return st.send("", map[string]errorBody{"error": openaiBody(e)})
	}
}

// modelParam is the id of GET /v1/models/{id}: SDKs may escape its slash.
func modelParam(c echo.Context) string {
	raw := c.Param("*")
	if id, err := url.PathUnescape(raw); err == nil {
		return id
	}
	return raw
}
