package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/ollama"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// ollamaPaths are the routes of Ollama's API: their errors take Ollama's shape
// ({"error": "..."}) and their audit action is "ollama.<name>".
var ollamaPaths = map[string]bool{"/api/version": true, "/api/tags": true, "/api/show": true, "/api/ps": true,
	"/api/chat": true, "/api/generate": true, "/api/embed": true, "/api/embeddings": true, "/api/delete": true,
	"/api/copy": true, "/api/pull": true}

// ollamaRoutes registers Ollama's API on the /v1 chain: the same API keys,
// quotas and audit.
func (s *Server) ollamaRoutes() {
	e, v1 := s.echo, s.v1Chain()
	e.GET("/api/version", s.handleOllamaVersion, v1...)
	e.HEAD("/api/version", s.handleOllamaVersion, v1...)
	e.GET("/api/tags", s.handleOllamaTags, v1...)
	e.POST("/api/show", s.handleOllamaShow, v1...)
	e.GET("/api/ps", s.handleOllamaPS, v1...)
	e.POST("/api/chat", s.handleOllamaChat, v1...)
	e.POST("/api/generate", s.handleOllamaGenerate, v1...)
	e.POST("/api/embed", s.handleOllamaEmbed, v1...)
	e.POST("/api/embeddings", s.handleOllamaEmbeddings, v1...)
	e.DELETE("/api/delete", s.handleOllamaDelete, append(v1, s.requireAdmin)...)
	e.POST("/api/copy", s.handleOllamaCopy, v1...)
	e.POST("/api/pull", s.handleOllamaPull, v1...)
}

// ollamaError maps a conversion's refusal to a 400 naming the field.
func ollamaError(err error) error {
	var oe *ollama.Error
	if errors.As(err, &oe) {
		return &Error{Kind: engine.KindInvalid, Code: "invalid_value", Param: oe.Field, Message: oe.Error()}
	}
	var ae *ollama.AmbiguousError
	if errors.As(err, &ae) {
		return &Error{Kind: engine.KindInvalid, Code: "ambiguous_model", Param: "model", Message: ae.Error()}
	}
	return v1Error(err)
}

func ollamaNotFound(name string) *Error {
	return &Error{Kind: engine.KindNotFound, Code: "model_not_found", Param: "model",
		Message: fmt.Sprintf("model %q not found: name a downloaded model (org/name, or name:tag) or a profile", name)}
}

// decodeOllama reads a body (at most maxV1Body) into one of api/ollama's types.
func decodeOllama(c echo.Context, v any) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	return ollamaError(ollama.Decode(b, v))
}

// ollamaResolve maps a model name onto a profile's defaults or a local model:
// a visible profile by name first, then the names ollama.Resolve accepts. The
// returned defaults always name the model to run.
func (s *Server) ollamaResolve(c echo.Context, eng *engine.Engine, name string) (ollama.Defaults, error) {
	if name == "" {
		return ollama.Defaults{}, &Error{Kind: engine.KindInvalid, Code: "invalid_value", Param: "model", Message: "model is required"}
	}
	auditRecord(c).Model = name
	p, err := s.store.Profiles().ByName(name)
	switch {
	case err == nil && profileVisible(c, p):
		d := profileDefaults(p)
		auditRecord(c).Model = d.Model
		return ollama.Defaults{Model: d.Model, SystemPrompt: d.SystemPrompt, Temperature: d.Temperature, TopP: d.TopP,
			MaxTokens: d.MaxTokens, ContextLength: d.ContextLength, KeepAlive: d.KeepAlive, ToolFormat: d.ToolFormat}, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return ollama.Defaults{}, fmt.Errorf("look up profile %q: %w", name, err)
	}
	models, err := eng.Models(c.Request().Context())
	if err != nil {
		return ollama.Defaults{}, v1Error(err)
	}
	ids := make([]string, len(models))
	for i, m := range models {
		ids[i] = m.ID
	}
	id, err := ollama.Resolve(name, ids)
	if err != nil {
		return ollama.Defaults{}, ollamaError(err)
	}
	if id == "" {
		return ollama.Defaults{}, ollamaNotFound(name)
	}
	auditRecord(c).Model = id
	return ollama.Defaults{Model: id}, nil
}

// ollamaLoad loads the model first when it is not in memory, so that the done
// record can tell load_duration from prompt evaluation. The request's own
// keep_alive applies when it runs; the load keeps the pool's default meanwhile,
// so that keep_alive 0 cannot unload the model before the request holds it.
func ollamaLoad(ctx context.Context, eng *engine.Engine, id string) (time.Duration, error) {
	for _, st := range eng.Status() {
		if st.ID == id && st.State == engine.StateReady {
			return 0, nil
		}
	}
	start := time.Now()
	if err := eng.Load(ctx, id, engine.LoadOptions{}); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// ollamaLoadOnly answers a chat or generate without input as Ollama does: it
// loads the model (done_reason "load"), or with keep_alive 0 unloads it
// ("unload").
func (s *Server) ollamaLoadOnly(c echo.Context, eng *engine.Engine, name, id string, keepAlive *time.Duration, build func(reason string, load time.Duration) any) error {
	ctx := c.Request().Context()
	if keepAlive != nil && *keepAlive == 0 {
		if err := eng.Unload(ctx, id, engine.UnloadOptions{Wait: true}); err != nil && !errors.Is(err, engine.ErrNotLoaded) {
			return engineError(name, err)
		}
		return c.JSON(http.StatusOK, build("unload", 0))
	}
	start := time.Now()
	if err := eng.Load(ctx, id, engine.LoadOptions{TTL: keepAlive}); err != nil {
		return engineError(name, err)
	}
	return c.JSON(http.StatusOK, build("load", time.Since(start)))
}

// ndjsonStream is an Ollama stream: one JSON object a line. The response is
// committed by the first line, so a request failing before it still gets a
// proper HTTP error. ctx ends when the client leaves or the server shuts down.
type ndjsonStream struct {
	c      echo.Context
	rc     *http.ResponseController
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	committed bool
}

func (s *Server) newNDJSON(c echo.Context) *ndjsonStream {
	ctx, cancel := context.WithCancel(c.Request().Context())
	st := &ndjsonStream{c: c, rc: http.NewResponseController(c.Response()), ctx: ctx, cancel: cancel}
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return st
}

func (st *ndjsonStream) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode stream line: %w", err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	w := st.c.Response()
	if !st.committed {
		w.Header().Set(echo.HeaderContentType, "application/x-ndjson")
		w.Header().Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		st.committed = true
	}
	if err := st.rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("set stream write deadline: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		st.cancel()
		return fmt.Errorf("write stream: %w", err)
	}
	if err := st.rc.Flush(); err != nil {
		st.cancel()
		return fmt.Errorf("flush stream: %w", err)
	}
	return nil
}

func (st *ndjsonStream) isCommitted() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.committed
}

func (st *ndjsonStream) close() {
	st.cancel()
	st.wg.Wait()
	if st.isCommitted() {
		_ = st.rc.SetWriteDeadline(time.Time{})
	}
}

// failed ends a stream whose generation failed: an HTTP error before anything
// was sent, else Ollama's {"error": ...} as the last line.
func (st *ndjsonStream) failed(s *Server, name string, err error) error {
	if cerr := st.c.Request().Context().Err(); cerr != nil {
		return cerr
	}
	if st.ctx.Err() != nil {
		err = errShuttingDown()
	}
	mapped := engineError(name, err)
	if !st.isCommitted() {
		return mapped
	}
	e := toError(mapped)
	rec := auditRecord(st.c)
	rec.ErrorType, rec.ErrorMessage = e.Type, e.Message
	return st.send(ollama.ErrorResponse{Error: e.Message})
}

func (s *Server) handleOllamaVersion(c echo.Context) error {
	v := strings.TrimPrefix(s.opts.Version, "v")
	if v == "" {
		v = "0.0.0"
	}
	return c.JSON(http.StatusOK, ollama.VersionResponse{Version: v})
}

// modelDigest identifies a local model's current files for Ollama's digest
// field: it changes when the model is replaced (size or time), as Ollama's does.
func modelDigest(m engine.ModelInfo) string {
	return ollama.Digest(m)
}

// handleOllamaTags lists the local models, then the profiles as further names
// (with the details of the model they run).
func (s *Server) handleOllamaTags(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	models, err := eng.Models(c.Request().Context())
	if err != nil {
		return v1Error(err)
	}
	profiles, err := s.store.Profiles().List()
	if err != nil {
		return err
	}
	out := ollama.ListResponse{Models: make([]ollama.ListModel, 0, len(models)+len(profiles))}
	byID := make(map[string]engine.ModelInfo, len(models))
	for _, m := range models {
		byID[m.ID] = m
		out.Models = append(out.Models, ollama.ListModelFrom(m, modelDigest(m)))
	}
	for _, p := range profiles {
		m, ok := byID[p.Model]
		if !ok || !profileVisible(c, p) {
			continue
		}
		lm := ollama.ListModelFrom(m, modelDigest(m))
		lm.Name, lm.Model, lm.ModifiedAt = p.Name, p.Name, p.CreatedAt.UTC()
		lm.Details.ParentModel = m.ID
		out.Models = append(out.Models, lm)
	}
	// The models the user's backends serve, as /v1/models lists them; the
	// backend's name stands for the family, which a remote model has none of here.
	listed := make(map[string]bool, len(out.Models))
	for _, m := range out.Models {
		listed[m.Name] = true
	}
	u, _ := currentUser(c)
	for _, m := range s.router.Models(u.ID, apiKeyID(c)) {
		if !listed[m.ID] {
			out.Models = append(out.Models, ollama.ListModel{Name: m.ID, Model: m.ID, Details: ollama.Details{Format: "remote", Family: m.Owner}})
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleOllamaShow(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	var req ollama.ShowRequest
	if err := decodeOllama(c, &req); err != nil {
		return err
	}
	name := req.Model
	if name == "" {
		name = req.Name
	}
	d, err := s.ollamaResolve(c, eng, name)
	if err != nil {
		return err
	}
	info, err := eng.ModelDetails(c.Request().Context(), d.Model)
	if err != nil {
		return engineError(name, err)
	}
	var params []string
	if d.Temperature != nil {
		params = append(params, fmt.Sprintf("temperature %g", *d.Temperature))
	}
	if d.TopP != nil {
		params = append(params, fmt.Sprintf("top_p %g", *d.TopP))
	}
	if d.MaxTokens != nil {
		params = append(params, fmt.Sprintf("num_predict %d", *d.MaxTokens))
	}
	if d.ContextLength > 0 {
		params = append(params, fmt.Sprintf("num_ctx %d", d.ContextLength))
	}
	modelfile := ollama.Modelfile(info.ID, info.ChatTemplate, params, d.SystemPrompt, info.License)
	details := ollama.DetailsFrom(info.ModelInfo)
	if p, err := s.store.Profiles().ByName(name); err == nil && profileVisible(c, p) {
		details.ParentModel = info.ID
	}
	return c.JSON(http.StatusOK, ollama.ShowResponse{Modelfile: modelfile, Parameters: strings.Join(params, "\n"),
		Template: info.ChatTemplate, System: d.SystemPrompt, License: info.License, Details: details,
		ModelInfo: ollama.ModelInfoFrom(info), Capabilities: ollama.Capabilities(info), ModifiedAt: info.Modified.UTC()})
}

func (s *Server) handleOllamaPS(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	out := ollama.ProcessResponse{Models: []ollama.ProcessModel{}}
	for _, st := range eng.Status() {
		if st.State != engine.StateReady {
			continue
		}
		info, err := eng.Model(c.Request().Context(), st.ID)
		if err != nil {
			info = engine.ModelInfo{ID: st.ID} // loaded from a folder since removed: still in memory
		}
		size := st.ResidentBytes
		if size == 0 {
			size = st.EstimateBytes
		}
		expires := st.ExpiresAt
		if expires.IsZero() {
			// Busy, pinned or kept forever: Ollama shows a far date for "never".
			expires = time.Date(2318, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		out.Models = append(out.Models, ollama.ProcessModel{Name: st.ID, Model: st.ID, Size: size, Digest: modelDigest(info),
			Details: ollama.DetailsFrom(info), ExpiresAt: expires.UTC(), ContextLength: info.ContextLength})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleOllamaDelete(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	var req ollama.DeleteRequest
	if err := decodeOllama(c, &req); err != nil {
		return err
	}
	name := req.Model
	if name == "" {
		name = req.Name
	}
	if p, err := s.store.Profiles().ByName(name); err == nil && profileVisible(c, p) {
		return &Error{Kind: engine.KindInvalid, Code: "invalid_value", Param: "model",
			Message: fmt.Sprintf("%q is a profile: delete it in the web app (Profiles), or name the model it runs (%s)", name, p.Model)}
	}
	d, err := s.ollamaResolve(c, eng, name)
	if err != nil {
		return err
	}
	res, err := eng.DeleteModel(c.Request().Context(), d.Model)
	if err != nil {
		return engineError(name, err)
	}
	s.audit(c, store.AuditEvent{Action: "model.delete", Model: d.Model, Detail: fmt.Sprintf("freed %d bytes", res.FreedBytes)})
	return c.NoContent(http.StatusOK)
}
