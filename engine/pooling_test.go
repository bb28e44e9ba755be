package engine

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// TestRealCheckpointFiles reads the configuration files of real checkpoints
// (testdata/st, transcribed): their kind, their pooling, and a config.json
// the encoder family accepts with the sizes of the real model.
func TestRealCheckpointFiles(t *testing.T) {
	for _, c := range []struct {
		name, kind, mode string
		normalize        bool
		maxLen, layers   int
		sigmoid          bool
	}{
		{"all-MiniLM-L6-v2", KindEmbedding, "mean", true, 256, 6, false},
		{"bge-small-en-v1.5", KindEmbedding, "cls", true, 512, 12, false},
		{"ms-marco-MiniLM-L-6-v2", KindReranker, "", false, 0, 6, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "st", c.name)
			raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := model.ParseConfig(raw)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.HiddenSize != 384 || cfg.HeadDim != 32 || cfg.NumHiddenLayers != c.layers || cfg.MaxPositionEmbeddings != 512 || !cfg.QKVBias {
				t.Errorf("config %+v", cfg)
			}
			if got := modelKind(dir, cfg.Architectures[0]); got != c.kind {
				t.Errorf("kind %q, want %q", got, c.kind)
			}
			if c.kind == KindReranker {
				if s, err := sigmoidScores(raw); err != nil || s != c.sigmoid {
					t.Errorf("sigmoid %v, %v", s, err)
				}
				return
			}
			p, err := readPooling(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !p.found || p.mode != c.mode || p.normalize != c.normalize || p.maxLen != c.maxLen {
				t.Errorf("pooling %+v", p)
			}
		})
	}
}

// TestPoolingRefusals: modules and modes this engine does not run are
// errors, never skipped.
func TestPoolingRefusals(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	pool := `{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}`
	for name, files := range map[string]map[string]string{
		"dense": {"modules.json": `[` + pool + `,{"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"}]`,
			"1_Pooling/config.json": `{"pooling_mode_mean_tokens": true}`},
		"max":  {"modules.json": `[` + pool + `]`, "1_Pooling/config.json": `{"pooling_mode_max_tokens": true}`},
		"two":  {"modules.json": `[` + pool + `]`, "1_Pooling/config.json": `{"pooling_mode_mean_tokens": true, "pooling_mode_cls_token": true}`},
		"none": {"modules.json": `[` + pool + `]`, "1_Pooling/config.json": `{}`},
	} {
		if _, err := readPooling(write(t, files)); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
	p, err := readPooling(write(t, map[string]string{"modules.json": `[` + pool + `]`, "1_Pooling/config.json": `{"pooling_mode": "lasttoken"}`}))
	if err != nil || p.mode != "lasttoken" || p.normalize {
		t.Errorf("pooling_mode string: %+v, %v", p, err)
	}
	if _, err := sigmoidScores([]byte(`{"sentence_transformers": {"activation_fn": "torch.nn.modules.activation.Tanh"}}`)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("tanh activation: %v", err)
	}
}
