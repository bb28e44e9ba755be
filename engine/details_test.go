package engine

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDetailsFiles(t *testing.T) {
	dir := t.TempDir()
	// A multimodal checkpoint: the language model's fields sit in text_config.
	cfg := `{"model_type": "gemma3", "vision_config": {"hidden_size": 1152}, "text_config": {"model_type": "gemma3_text", "hidden_size": 2560, "num_hidden_layers": 34}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := readConfigMap(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m["hidden_size"] != 2560.0 || m["num_hidden_layers"] != 34.0 || m["model_type"] != "gemma3" {
		t.Errorf("merged config %v", m)
	}
	if m, err := readConfigMap(filepath.Join(dir, "missing.json")); err != nil || len(m) != 0 {
		t.Errorf("missing config: %v %v", m, err)
	}

	for card, want := range map[string]string{
		"---\nlanguage: en\nlicense: apache-2.0\ntags: [x]\n---\n# Model": "apache-2.0",
		"---\nlicense: \"gemma\"\n---\n":                                  "gemma",
		"# Model\nlicense: mit\n":                                         "", // not front matter
		"---\ntags: [x]\n---\nlicense: mit\n":                             "", // after the front matter
	} {
		path := filepath.Join(dir, "README.md")
		if err := os.WriteFile(path, []byte(card), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := cardLicense(path); got != want {
			t.Errorf("cardLicense(%q) = %q, want %q", card, got, want)
		}
	}
}
