package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/mlx-manager/mlx-manager/engine"
)

const (
	maxCachedConfigs    = 1024
	configFetchParallel = 6
	configFetchTimeout  = 10 * time.Second
)

// libraryState is what the model library routes keep between requests: the Hub
// config.json of searched models, so a repeated search costs one Hub call.
type libraryState struct {
	mu      sync.Mutex
	configs map[string]cachedConfig // by repo id; guarded by mu
}

type cachedConfig struct {
	modified time.Time // the repo's last modification when fetched
	raw      []byte    // nil: the repo has no config.json
}

func (l *libraryState) get(repo string, modified time.Time) (cachedConfig, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.configs[repo]
	return c, ok && (modified.IsZero() || c.modified.Equal(modified))
}

func (l *libraryState) put(repo string, c cachedConfig) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.configs == nil || len(l.configs) >= maxCachedConfigs {
		l.configs = make(map[string]cachedConfig) // start over: simpler than LRU, rarely hit
	}
	l.configs[repo] = c
}

// hubConfig returns repo's config.json from the Hub (nil when it has none),
// cached until the repo changes.
func (s *Server) hubConfig(ctx context.Context, repo engine.ModelRef, modified time.Time) ([]byte, error) {
	if c, ok := s.library.get(repo.String(), modified); ok {
		return c.raw, nil
	}
	raw, err := s.opts.Engine.HubConfig(ctx, repo)
	if err != nil {
		return nil, err
	}
	s.library.put(repo.String(), cachedConfig{modified: modified, raw: raw})
	return raw, nil
}

// localConfig reads repo's config.json from the models dir.
func (s *Server) localConfig(repo engine.ModelRef) (raw []byte, size int64, ok bool) {
	if s.opts.Engine == nil {
		return nil, 0, false
	}
	return s.opts.Engine.LocalConfig(repo)
}

// addEstimates reads the config of each result (from the models dir or the Hub, in
// parallel) to add its architecture, context, whether it runs here and its memory
// estimate. A config that cannot be read leaves those fields empty: the search
// itself has succeeded.
func (s *Server) addEstimates(ctx context.Context, results []searchResult) {
	budget, haveBudget := s.budget()
	ctx, cancel := context.WithTimeout(ctx, configFetchTimeout)
	defer cancel()
	var g errgroup.Group
	g.SetLimit(configFetchParallel)
	for i := range results {
		r := &results[i] // each goroutine writes its own element only
		g.Go(func() error {
			ref, err := engine.ParseModelRef(r.ID)
			if err != nil {
				return nil // the Hub listed a name no download could use
			}
			raw, _, ok := s.localConfig(ref)
			if !ok {
				if raw, err = s.hubConfig(ctx, ref, r.LastModified); err != nil {
					s.log.Debug("search: read config", "model", r.ID, "err", err)
					return nil
				}
			}
			if raw == nil {
				return nil
			}
			info := engine.DescribeConfig(r.ID, raw)
			r.Supported, r.Unsupported = &info.Supported, info.Unsupported
			r.Architecture, r.ContextLength = info.Architecture, info.ContextLength
			if r.Parameters == 0 {
				r.Parameters = info.Parameters
			}
			if info.Supported && r.SizeBytes > 0 {
				if est, err := engine.EstimateMemory(raw, r.SizeBytes, 0); err == nil {
					r.EstimateBytes = est
					if haveBudget {
						r.Fits = fits(est, budget)
					}
				}
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines never fail
}

// configView is what a model's config.json says, and what it means here.
type configView struct {
	ID                string `json:"id"`
	Source            string `json:"source"` // "local" or "hub"
	Architecture      string `json:"architecture,omitempty"`
	ModelType         string `json:"model_type,omitempty"`
	Parameters        int64  `json:"parameters,omitempty"`
	Quantization      string `json:"quantization,omitempty"`
	QuantBits         int    `json:"quant_bits,omitempty"`
	QuantGroupSize    int    `json:"quant_group_size,omitempty"`
	ContextLength     int    `json:"context_length,omitempty"`
	HiddenSize        int    `json:"hidden_size,omitempty"`
	IntermediateSize  int    `json:"intermediate_size,omitempty"`
	NumLayers         int    `json:"num_layers,omitempty"`
	NumHeads          int    `json:"num_heads,omitempty"`
	NumKVHeads        int    `json:"num_kv_heads,omitempty"`
	VocabSize         int    `json:"vocab_size,omitempty"`
	TorchDType        string `json:"torch_dtype,omitempty"`
	TieWordEmbeddings bool   `json:"tie_word_embeddings"`
	Supported         bool   `json:"supported"`
	UnsupportedReason string `json:"unsupported_reason,omitempty"`
	SizeBytes         int64  `json:"size_bytes,omitempty"`     // local models: on disk
	EstimateBytes     int64  `json:"estimate_bytes,omitempty"` // local models: memory to load it
	Fits              *bool  `json:"fits,omitempty"`
}

// rawConfig is the part of config.json shown as is, also for architectures the
// engine cannot run (whose config it does not parse).
type rawConfig struct {
	Architectures         []string   `json:"architectures"`
	ModelType             string     `json:"model_type"`
	HiddenSize            int        `json:"hidden_size"`
	IntermediateSize      int        `json:"intermediate_size"`
	NumHiddenLayers       int        `json:"num_hidden_layers"`
	NumAttentionHeads     int        `json:"num_attention_heads"`
	NumKeyValueHeads      int        `json:"num_key_value_heads"`
	VocabSize             int        `json:"vocab_size"`
	MaxPositionEmbeddings int        `json:"max_position_embeddings"`
	TorchDType            string     `json:"torch_dtype"`
	TieWordEmbeddings     bool       `json:"tie_word_embeddings"`
	Quantization          *rawQuant  `json:"quantization"`
	QuantizationConfig    *rawQuant  `json:"quantization_config"`
	TextConfig            *rawConfig `json:"text_config"` // multimodal wrappers
}

type rawQuant struct {
	Bits      int `json:"bits"`
	GroupSize int `json:"group_size"`
}

// handleModelConfig describes a model from its config.json: the local copy when the
// model is downloaded, else the Hub's.
func (s *Server) handleModelConfig(c echo.Context) error {
	ref, err := repoRef(c)
	if err != nil {
		return err
	}
	id := ref.String()
	v := configView{ID: id, Source: "local"}
	raw, size, ok := s.localConfig(ref)
	if !ok {
		if s.opts.Engine == nil || !s.opts.Engine.HasHub() {
			return &Error{Status: http.StatusNotFound, Code: "model_not_found", Message: fmt.Sprintf("model %s is not in the models dir", id)}
		}
		if err := s.checkOnline(); err != nil {
			return err
		}
		if raw, err = s.hubConfig(c.Request().Context(), ref, time.Time{}); err != nil {
			return err
		}
		if raw == nil {
			return &Error{Status: http.StatusNotFound, Code: "config_not_found", Message: fmt.Sprintf("model %s has no config.json", id)}
		}
		v.Source = "hub"
	}
	if err := v.fill(raw); err != nil {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_config", Message: err.Error(), Err: err}
	}
	if v.Supported && size > 0 {
		v.SizeBytes = size
		if est, err := engine.EstimateMemory(raw, size, 0); err == nil {
			v.EstimateBytes = est
			if budget, ok := s.budget(); ok {
				v.Fits = fits(est, budget)
			}
		}
	}
	return c.JSON(http.StatusOK, v)
}

// fill sets the view from the raw config and the engine's reading of it.
func (v *configView) fill(raw []byte) error {
	var rc rawConfig
	if err := json.Unmarshal(raw, &rc); err != nil {
		return fmt.Errorf("config.json of %s: %w", v.ID, err)
	}
	arch := rc.Architectures
	if rc.TextConfig != nil && rc.HiddenSize == 0 {
		rc = *rc.TextConfig
	}
	if len(arch) > 0 {
		v.Architecture = arch[0]
	}
	v.ModelType, v.ContextLength, v.TorchDType = rc.ModelType, rc.MaxPositionEmbeddings, rc.TorchDType
	v.HiddenSize, v.IntermediateSize, v.NumLayers = rc.HiddenSize, rc.IntermediateSize, rc.NumHiddenLayers
	v.NumHeads, v.NumKVHeads, v.VocabSize = rc.NumAttentionHeads, rc.NumKeyValueHeads, rc.VocabSize
	v.TieWordEmbeddings = rc.TieWordEmbeddings
	if q := rc.Quantization; q != nil || rc.QuantizationConfig != nil {
		if q == nil {
			q = rc.QuantizationConfig
		}
		v.QuantBits, v.QuantGroupSize = q.Bits, q.GroupSize
	}
	info := engine.DescribeConfig(v.ID, raw)
	v.Supported, v.UnsupportedReason = info.Supported, info.Unsupported
	if info.Supported {
		v.Parameters, v.Quantization, v.ContextLength = info.Parameters, info.Quantization, info.ContextLength
	}
	return nil
}
