package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/chat"
)

// maxDetailsFile bounds the config.json and README.md ModelDetails reads.
const maxDetailsFile = 8 << 20

// ModelDetails is what a model's files say beyond ModelInfo, for tools that
// show a model whole (Ollama's /api/show, `mlx-manager show`).
type ModelDetails struct {
	ModelInfo
	// Config is config.json; a multimodal checkpoint's text_config keys are
	// merged over it, as they describe the language model that runs.
	Config       map[string]any
	ChatTemplate string // the default chat template's source; "" when the model ships none
	License      string // the license the model card's front matter names
}

// ModelDetails describes one model from its files.
func (e *Engine) ModelDetails(ctx context.Context, id string) (ModelDetails, error) {
	info, err := e.Model(ctx, id)
	if err != nil {
		return ModelDetails{}, err
	}
	d := ModelDetails{ModelInfo: info}
	dir := info.Path
	if d.Config, err = readConfigMap(filepath.Join(dir, "config.json")); err != nil {
		return ModelDetails{}, fmt.Errorf("details of %s: %w", id, err)
	}
	if d.ChatTemplate, err = chat.Source(dir); err != nil {
		return ModelDetails{}, fmt.Errorf("details of %s: %w", id, err)
	}
	d.License = cardLicense(filepath.Join(dir, "README.md"))
	return d, nil
}

func readConfigMap(path string) (map[string]any, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, err
	}
	if st.Size() > maxDetailsFile {
		return nil, fmt.Errorf("%s: %d bytes exceeds %d", path, st.Size(), maxDetailsFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg := map[string]any{}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if text, ok := cfg["text_config"].(map[string]any); ok {
		for k, v := range text {
			if k != "model_type" {
				cfg[k] = v
			}
		}
	}
	return cfg, nil
}

// cardLicense is the license field of a model card's YAML front matter
// ("license: apache-2.0"), "" when there is none.
func cardLicense(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() || strings.TrimSpace(sc.Text()) != "---" {
		return ""
	}
	for n := 0; sc.Scan() && n < 200; n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "---" {
			return ""
		}
		if v, ok := strings.CutPrefix(line, "license:"); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}
