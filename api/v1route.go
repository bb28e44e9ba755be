package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/api/route"
	"github.com/mlx-manager/mlx-manager/engine"
)

// v1Protocols are the /v1 routes a remote backend may answer, and as what.
var v1Protocols = map[string]string{
	"/v1/chat/completions": route.OpenAIChat,
	"/v1/completions":      route.OpenAICompletions,
	"/v1/embeddings":       route.OpenAIEmbeddings,
	"/v1/messages":         route.AnthropicMessages,
}

// routeV1 is the first step of the /v1 handlers that a backend may answer: when
// a routing rule or a backend's model list claims the request's model, the router
// serves it and handled is true. Otherwise (no backends, no claim, or a local
// target first) the handler goes on to the engine, with the body to read again.
func (s *Server) routeV1(c echo.Context) (handled bool, err error) {
	proto, ok := v1Protocols[c.Path()]
	if !ok || !s.router.Active() {
		return false, nil
	}
	body, err := readBody(c)
	if err != nil {
		return true, err
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(body))
	model := route.ModelOf(body)
	targets, ok := s.router.Targets(model, func(m string) bool { return s.servedLocally(c, m) })
	if !ok {
		return false, nil
	}
	if targets, err = s.permittedTargets(c, model, targets); err != nil {
		return true, err
	}
	rec := auditRecord(c)
	rec.Model = model
	res, err := s.router.Serve(c.Request().Context(), c.Response(), &route.Request{
		Protocol: proto, Body: body, Model: model, Header: c.Request().Header, Targets: targets, LastWrite: true})
	if res.Local {
		if res.Model != "" {
			if body, err = route.SetModel(body, res.Model); err != nil {
				return true, BadParam("", "invalid JSON body: %v", err)
			}
		}
		c.Request().Body = io.NopCloser(bytes.NewReader(body))
		return false, nil
	}
	rec.Backend = res.Backend
	rec.PromptTokens += res.Usage.Input
	rec.CompletionTokens += res.Usage.Output
	if res.FirstByte > 0 && rec.TTFTMS == 0 {
		rec.TTFTMS = millis(res.FirstByte)
	}
	switch {
	case err == nil:
		return true, nil
	case c.Request().Context().Err() != nil:
		return true, c.Request().Context().Err()
	case !res.Committed:
		return true, routeError(err)
	}
	// The stream had started: the error can only be its last event.
	e := toError(routeError(err))
	rec.ErrorType, rec.ErrorMessage = e.Type, e.Message
	s.log.Warn("routed stream failed", "request_id", requestID(c), "backend", res.Backend, "err", err)
	if re := (*route.Error)(nil); errors.As(err, &re) && re.Relayed {
		return true, nil // the backend's error event is the stream's last
	}
	return true, writeStreamError(c, proto, e)
}

// permittedTargets drops the backends neither the user nor the API key may use; with none left the
// request is refused, naming the model.
func (s *Server) permittedTargets(c echo.Context, model string, targets []route.Target) ([]route.Target, error) {
	u, _ := currentUser(c)
	out := make([]route.Target, 0, len(targets))
	for _, t := range targets {
		if s.router.Allowed(t.Backend, u.ID, apiKeyID(c)) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, &Error{Kind: engine.KindForbidden, Code: "model_not_permitted", Param: "model",
			Message: fmt.Sprintf("you may not use the model %q: ask an administrator for access to its backend", model)}
	}
	return out, nil
}

// routeError is the router's error in the API's terms: the backend's 4xx keeps its
// status, a failed backend is a 502, every breaker open a 503.
func routeError(err error) error {
	var re *route.Error
	if !errors.As(err, &re) {
		return err
	}
	return &Error{Kind: kindOfStatus(re.Status), Code: "backend_error", Message: re.Message, Err: err}
}

// writeStreamError ends a routed stream with an error event in its protocol.
func writeStreamError(c echo.Context, proto string, e *Error) error {
	var buf bytes.Buffer
	if proto == route.AnthropicMessages {
		var a anthropicError
		a.Type, a.Error.Type, a.Error.Message = "error", kindInfo(e.Kind).anthropic, e.Message
		b, _ := json.Marshal(a)
		fmt.Fprintf(&buf, "event: error\ndata: %s\n\n", b)
	} else {
		b, _ := json.Marshal(map[string]errorBody{"error": openaiBody(e)})
		fmt.Fprintf(&buf, "data: %s\n\n", b)
	}
	if _, err := c.Response().Write(buf.Bytes()); err != nil {
		return err
	}
	return http.NewResponseController(c.Response()).Flush()
}

// appendRoutedModels adds the models the user's backends serve to a /v1/models
// list, owned by their backend; a name already listed (a local model) stays local.
func (s *Server) appendRoutedModels(c echo.Context, list []openai.Model) []openai.Model {
	seen := make(map[string]bool, len(list))
	for _, m := range list {
		seen[m.ID] = true
	}
	u, _ := currentUser(c)
	for _, m := range s.router.Models(u.ID, apiKeyID(c)) {
		if !seen[m.ID] {
			list = append(list, openai.Model{ID: m.ID, Object: "model", OwnedBy: m.Owner})
		}
	}
	return list
}

// servedLocally reports whether model names a profile the user sees or a model of
// the models dir: a backend that lists the same name does not take it away.
func (s *Server) servedLocally(c echo.Context, model string) bool {
	if p, err := s.store.Profiles().ByName(model); err == nil {
		return profileVisible(c, p)
	}
	if s.opts.Engine == nil || !engine.IsModelRef(model) {
		return false
	}
	_, err := s.opts.Engine.Model(c.Request().Context(), model)
	return err == nil
}

// routedModel describes a model one of the user's backends serves.
func (s *Server) routedModel(c echo.Context, id string) (openai.Model, bool) {
	u, _ := currentUser(c)
	for _, m := range s.router.Models(u.ID, apiKeyID(c)) {
		if m.ID == id {
			return openai.Model{ID: m.ID, Object: "model", OwnedBy: m.Owner}, true
		}
	}
	return openai.Model{}, false
}
