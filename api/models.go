package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// Search limits.
const (
	defaultSearchLimit = 20
	maxSearchLimit     = 100
	maxSearchQuery     = 200
	// sizeFilterFactor is how many more results a search with max_size_gb asks the
	// Hub for, since the filter drops some after the Hub has cut the list.
	sizeFilterFactor = 3
)

// searchResult is one Hub model with what this machine makes of it.
type searchResult struct {
	ID            string    `json:"id"`
	Author        string    `json:"author"`
	Downloads     int64     `json:"downloads"`
	Likes         int64     `json:"likes"`
	Tags          []string  `json:"tags"`
	PipelineTag   string    `json:"pipeline_tag,omitempty"`
	LastModified  time.Time `json:"last_modified,omitzero"`
	Gated         string    `json:"gated,omitempty"`      // "", "auto" or "manual"
	SizeBytes     int64     `json:"size_bytes"`           // 0: unknown
	Parameters    int64     `json:"parameters,omitempty"` // 0: unknown
	Quantization  string    `json:"quantization,omitempty"`
	Downloaded    bool      `json:"downloaded"`
	Architecture  string    `json:"architecture,omitempty"`
	ContextLength int       `json:"context_length,omitempty"`
	Supported     *bool     `json:"supported,omitempty"`          // nil: config.json not read
	Unsupported   string    `json:"unsupported_reason,omitempty"` // why not, naming the architectures that run
	EstimateBytes int64     `json:"estimate_bytes,omitempty"`     // weights + KV cache for the default context
	Fits          *bool     `json:"fits,omitempty"`               // the estimate is within the pool's budget; nil: unknown
}

// searchTasks are the Hub tasks a search may ask for: chat models, embedding
// models (sentence-similarity, feature-extraction) and rerankers
// (text-ranking, text-classification for cross-encoders).
var searchTasks = map[string]bool{"text-generation": true, "sentence-similarity": true, "feature-extraction": true,
	"text-ranking": true, "text-classification": true}

type searchParams struct {
	query   engine.SearchQuery
	maxSize int64 // bytes; 0: no limit
}

func parseSearch(c echo.Context) (searchParams, error) {
	var p searchParams
	p.query.Query = strings.TrimSpace(c.QueryParam("query"))
	if p.query.Query == "" {
		p.query.Query = strings.TrimSpace(c.QueryParam("q"))
	}
	if len(p.query.Query) > maxSearchQuery {
		return p, BadParam("query", "query is longer than %d characters", maxSearchQuery)
	}
	p.query.Author = strings.TrimSpace(c.QueryParam("author"))
	if len(p.query.Author) > maxSearchQuery || strings.Contains(p.query.Author, "/") {
		return p, BadParam("author", "author must be a user or organisation name")
	}
	p.query.Limit = defaultSearchLimit
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSearchLimit {
			return p, BadParam("limit", "limit must be between 1 and %d", maxSearchLimit)
		}
		p.query.Limit = n
	}
	if tag := c.QueryParam("pipeline_tag"); tag != "" {
		if !searchTasks[tag] {
			return p, BadParam("pipeline_tag", "pipeline_tag must be one of text-generation, sentence-similarity, feature-extraction, text-ranking, text-classification")
		}
		p.query.PipelineTag = tag
		if tag != "text-generation" {
			// Embedding models and cross-encoders run from their own
			// safetensors: few are converted to MLX.
			p.query.Filter = []string{"safetensors"}
		}
	}
	if v := c.QueryParam("max_size_gb"); v != "" {
		gb, err := strconv.ParseFloat(v, 64)
		if err != nil || !(gb > 0) || gb > 1e6 {
			return p, BadParam("max_size_gb", "max_size_gb must be a positive number")
		}
		p.maxSize = int64(gb * 1e9)
	}
	return p, nil
}

// handleSearch searches the Hub for models this program can run (MLX safetensors,
// text generation) and tells for each whether it is here and whether it would fit.
func (s *Server) handleSearch(c echo.Context) error {
	if s.opts.Engine == nil || !s.opts.Engine.HasHub() {
		return errNoHub()
	}
	p, err := parseSearch(c)
	if err != nil {
		return err
	}
	if err := s.checkOnline(); err != nil {
		return err
	}
	limit := p.query.Limit
	if p.maxSize > 0 {
		p.query.Limit = min(limit*sizeFilterFactor, maxSearchLimit)
	}
	ctx := c.Request().Context()
	found, err := s.opts.Engine.Search(ctx, p.query)
	if err != nil {
		return err
	}
	out := make([]searchResult, 0, min(len(found), limit))
	for _, m := range found {
		if p.maxSize > 0 && m.TotalSize > p.maxSize {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, s.searchResult(m))
	}
	s.addEstimates(ctx, out)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) searchResult(m engine.HubModel) searchResult {
	r := searchResult{
		ID: m.ID, Author: m.Author, Downloads: m.Downloads, Likes: m.Likes, Tags: m.Tags,
		PipelineTag: m.PipelineTag, LastModified: m.LastModified, Gated: m.Gated,
		SizeBytes: m.TotalSize, Parameters: m.Parameters, Quantization: m.Quantization,
	}
	if ref, err := engine.ParseModelRef(m.ID); err == nil {
		r.Downloaded = s.opts.Engine.Downloaded(ref)
	}
	return r
}

// budget is the pool's memory budget; 0 means no cap, ok false no engine.
func (s *Server) budget() (int64, bool) {
	if s.opts.Engine == nil {
		return 0, false
	}
	return s.opts.Engine.Memory().BudgetBytes, true
}

// fits says whether a model of this estimate can ever be loaded here.
func fits(estimate, budget int64) *bool {
	ok := budget <= 0 || estimate <= budget
	return &ok
}

// handleLocalModels lists every complete model in the models dir, whoever
// downloaded it, with what its config says and whether it is loaded.
func (s *Server) handleLocalModels(c echo.Context) error {
	e, err := s.needEngine()
	if err != nil {
		return err
	}
	list, err := e.Models(c.Request().Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []engine.ModelInfo{}
	}
	return c.JSON(http.StatusOK, list)
}

// handleDeleteModel removes a model from the models dir: one engine operation
// that refuses a model serving requests (409), unloads an idle one, stops its
// download and deletes its files. A registered local model is unloaded and
// unregistered; its folder stays.
func (s *Server) handleDeleteModel(c echo.Context) error {
	ref, err := repoRef(c)
	if err != nil {
		return err
	}
	id := ref.String()
	ctx := c.Request().Context()
	e, err := s.needEngine()
	if err != nil {
		return err
	}
	res, err := e.DeleteModel(ctx, id)
	if err != nil {
		return err
	}
	if res.Unregistered {
		// A local model's folder is the user's: deleting unregisters it.
		if err := s.unregisterLocal(id); err != nil {
			return err
		}
		s.audit(c, store.AuditEvent{Action: "model.unregister", Model: id})
		return c.JSON(http.StatusOK, res)
	}
	s.audit(c, store.AuditEvent{Action: "model.delete", Model: id, Detail: fmt.Sprintf("freed %d bytes", res.FreedBytes)})
	return c.JSON(http.StatusOK, res)
}
