package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// ChatML is the template used when a model ships none: the <|im_start|>
// format most instruction-tuned models without a template were trained on,
// identical to the fallback transformers once used (default_chat_template).
const ChatML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

// maxConfigSize bounds tokenizer_config.json; some embed their vocabulary
// (added_tokens_decoder) and reach a few megabytes.
const maxConfigSize = 64 << 20

// tokenizerConfig is the part of tokenizer_config.json that matters here.
type tokenizerConfig struct {
	ChatTemplate json.RawMessage `json:"chat_template"`
	BOS          json.RawMessage `json:"bos_token"`
	EOS          json.RawMessage `json:"eos_token"`
}

// Load reads the chat template of a model directory, in the order
// transformers uses: chat_template.jinja, then chat_template.json, then
// the chat_template field of tokenizer_config.json (a string, or a list of
// {name, template}). Without any, it uses ChatML. BOS and EOS tokens come
// from tokenizer_config.json.
func Load(dir string) (*Template, error) {
	cfg, err := readTokenizerConfig(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		return nil, err
	}
	variants, err := findTemplates(dir, cfg)
	if err != nil {
		return nil, err
	}
	t := &Template{variants: map[string]*compiled{}, fallback: variants == nil}
	if t.fallback {
		variants = map[string]string{"default": ChatML}
	}
	for name, src := range variants {
		c, err := compile(src)
		if err != nil {
			return nil, fmt.Errorf("load %s template %q: %w", dir, name, err)
		}
		t.variants[name] = c
	}
	if t.bos, err = tokenString(cfg.BOS); err != nil {
		return nil, fmt.Errorf("load %s: bos_token: %w", dir, err)
	}
	if t.eos, err = tokenString(cfg.EOS); err != nil {
		return nil, fmt.Errorf("load %s: eos_token: %w", dir, err)
	}
	return t, nil
}

func readTokenizerConfig(path string) (tokenizerConfig, error) {
	var cfg tokenizerConfig
	data, err := readLimited(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg, fmt.Errorf("parse %s: %w", path, err)
	}
	return cfg, nil
}

func readLimited(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxConfigSize {
		return nil, fmt.Errorf("read %s: %d bytes exceeds %d", path, st.Size(), maxConfigSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

// findTemplates returns the template sources by variant name, nil when the
// model ships none.
func findTemplates(dir string, cfg tokenizerConfig) (map[string]string, error) {
	jinjaPath := filepath.Join(dir, "chat_template.jinja")
	data, err := readLimited(jinjaPath)
	if err == nil {
		return map[string]string{"default": string(data)}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	jsonPath := filepath.Join(dir, "chat_template.json")
	data, err = readLimited(jsonPath)
	if err == nil {
		var sep struct {
			ChatTemplate json.RawMessage `json:"chat_template"`
		}
		if err := json.Unmarshal(data, &sep); err != nil {
			return nil, fmt.Errorf("parse %s: %w", jsonPath, err)
		}
		if v, err := templateField(sep.ChatTemplate); err != nil || v != nil {
			return v, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	v, err := templateField(cfg.ChatTemplate)
	if err != nil {
		return nil, fmt.Errorf("tokenizer_config.json chat_template: %w", err)
	}
	return v, nil
}

// HasTemplate reports whether dir ships a chat template: a model without one
// is most likely a base model, which answers a chat with gibberish.
func HasTemplate(dir string) bool {
	cfg, err := readTokenizerConfig(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		return false
	}
	v, err := findTemplates(dir, cfg)
	return err == nil && v != nil
}

// templateField decodes a chat_template value: a string or a list of named
// templates. It returns nil for an absent or null field.
func templateField(raw json.RawMessage) (map[string]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return map[string]string{"default": s}, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &named); err != nil {
		return nil, fmt.Errorf("want a string or a list of {name, template}: %w", err)
	}
	out := make(map[string]string, len(named))
	for _, n := range named {
		if n.Name == "" {
			return nil, fmt.Errorf("named template without a name")
		}
		out[n.Name] = n.Template
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// tokenString reads a special token given as a string or as an AddedToken
// object ({"content": "<s>", ...}).
func tokenString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", err
	}
	return obj.Content, nil
}

// Source is the text of dir's default chat template as the model ships it
// ("" when it ships none), for tools that show it (Ollama's /api/show).
func Source(dir string) (string, error) {
	cfg, err := readTokenizerConfig(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		return "", err
	}
	variants, err := findTemplates(dir, cfg)
	if err != nil || variants == nil {
		return "", err
	}
	if src, ok := variants["default"]; ok {
		return src, nil
	}
	names := make([]string, 0, len(variants))
	for n := range variants {
		names = append(names, n)
	}
	sort.Strings(names)
	return variants[names[0]], nil
}
