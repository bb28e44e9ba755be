package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Kinds of model, by what they answer: chat (and completions), embedding
// vectors, or reranking scores.
const (
	KindChat      = "chat"
	KindEmbedding = "embedding"
	KindReranker  = "reranker"
)

// modelKind says what the model in dir is for, from its files alone (so the
// library can say it without loading): a sequence-classification
// checkpoint is a reranker (a cross-encoder), as is a Qwen3-Reranker, an encoder or a model shipped
// with a sentence-transformers Pooling module (Qwen3-Embedding) an
// embedding model, anything else a chat model.
func modelKind(dir, arch string) string {
	switch {
	case strings.HasSuffix(arch, "ForSequenceClassification"), isYesNoReranker(dir, arch):
		return KindReranker
	case encoderArch(arch):
		return KindEmbedding
	}
	if dir == "" {
		return KindChat
	}
	if p, err := readPooling(dir); err == nil && p.found {
		return KindEmbedding
	}
	return KindChat
}

// encoderArch reports an encoder's bare model or masked-LM architecture.
func encoderArch(arch string) bool {
	return strings.HasSuffix(arch, "ForMaskedLM") ||
		(strings.HasSuffix(arch, "Model") && !strings.HasSuffix(arch, "LMHeadModel"))
}

// pooling is how an embedding model turns its token states into one vector,
// as its sentence-transformers files say (modules.json, 1_Pooling/config.json,
// sentence_bert_config.json, config_sentence_transformers.json).
type pooling struct {
	found     bool   // the model ships modules.json with a Pooling module
	mode      string // "mean", "cls" or "lasttoken"
	normalize bool   // a Normalize module follows
	maxLen    int    // max_seq_length; 0: the model's window
	prompts   map[string]string
	// defaultPrompt names the prompt used when a request names none.
	defaultPrompt string
	// layerNormCut: a vector cut to fewer dimensions is layer-normalised
	// over its full width first, then L2-normalised (matryoshka.go).
	layerNormCut bool
}

// defaultPooling is what an encoder without sentence-transformers files
// gets: mean pooling, normalised, as llama-server pools BERT models.
var defaultPooling = pooling{mode: "mean", normalize: true}

type stModule struct {
	Path string `json:"path"`
	Type string `json:"type"`
}

type stPooling struct {
	CLS            bool   `json:"pooling_mode_cls_token"`
	Mean           bool   `json:"pooling_mode_mean_tokens"`
	Max            bool   `json:"pooling_mode_max_tokens"`
	MeanSqrtLen    bool   `json:"pooling_mode_mean_sqrt_len_tokens"`
	WeightedMean   bool   `json:"pooling_mode_weightedmean_tokens"`
	LastToken      bool   `json:"pooling_mode_lasttoken"`
	PoolingModeStr string `json:"pooling_mode"`
}

// readPooling reads the sentence-transformers files of dir. A model without
// modules.json gets defaultPooling; modules this engine does not run (Dense
// projections, max pooling, ...) are an error, never silently skipped.
func readPooling(dir string) (pooling, error) {
	p := defaultPooling
	raw, err := os.ReadFile(filepath.Join(dir, "modules.json"))
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("modules.json: %w", err)
	}
	var mods []stModule
	if err := json.Unmarshal(raw, &mods); err != nil {
		return p, fmt.Errorf("modules.json: %w", err)
	}
	p.normalize = false
	for _, m := range mods {
		name := m.Type[strings.LastIndex(m.Type, ".")+1:]
		switch name {
		case "Transformer":
		case "Pooling":
			mode, err := readPoolingMode(filepath.Join(dir, filepath.FromSlash(m.Path), "config.json"))
			if err != nil {
				return p, err
			}
			p.found, p.mode = true, mode
		case "Normalize":
			p.normalize = true
		default:
			return p, fmt.Errorf("%w: sentence-transformers module %s is not supported (Transformer, Pooling and Normalize are)", ErrUnsupported, m.Type)
		}
	}
	if !p.found {
		return defaultPooling, nil
	}
	var sb struct {
		MaxSeqLength int `json:"max_seq_length"`
	}
	if err := readOptionalJSON(filepath.Join(dir, "sentence_bert_config.json"), &sb); err != nil {
		return p, err
	}
	p.maxLen = sb.MaxSeqLength
	var st struct {
		Prompts           map[string]string `json:"prompts"`
		DefaultPromptName *string           `json:"default_prompt_name"`
	}
	if err := readOptionalJSON(filepath.Join(dir, "config_sentence_transformers.json"), &st); err != nil {
		return p, err
	}
	p.prompts = st.Prompts
	if st.DefaultPromptName != nil {
		p.defaultPrompt = *st.DefaultPromptName
	}
	return p, nil
}

func readPoolingMode(path string) (string, error) {
	var c stPooling
	if err := readOptionalJSON(path, &c); err != nil {
		return "", err
	}
	var modes []string
	for _, m := range []struct {
		on   bool
		name string
	}{{c.CLS, "cls"}, {c.Mean, "mean"}, {c.LastToken, "lasttoken"}, {c.Max, "max"}, {c.MeanSqrtLen, "mean_sqrt_len_tokens"}, {c.WeightedMean, "weightedmean"}} {
		if m.on {
			modes = append(modes, m.name)
		}
	}
	if len(modes) == 0 && c.PoolingModeStr != "" {
		modes = []string{c.PoolingModeStr}
	}
	if len(modes) != 1 || (modes[0] != "cls" && modes[0] != "mean" && modes[0] != "lasttoken") {
		return "", fmt.Errorf("%w: pooling %v in %s (one of cls, mean, lasttoken is supported)", ErrUnsupported, modes, filepath.Base(filepath.Dir(path)))
	}
	return modes[0], nil
}

// readOptionalJSON decodes path into v, leaving v alone when the file does not exist.
func readOptionalJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}

// familyPrompts are the task prefixes a family was trained with, for its
// models whose files name none: nomic-embed-text wants "search_query: " and
// "search_document: " (its model card), which sentence-transformers users
// type themselves, so input_type can ask for them as it does elsewhere.
var familyPrompts = map[string]map[string]string{
	"NomicBertModel": {"query": "search_query: ", "document": "search_document: ",
		"classification": "classification: ", "clustering": "clustering: "},
}

// promptAliases are Cohere's and Voyage's names of the usual prompts.
var promptAliases = map[string]string{"search_query": "query", "search_document": "document", "passage": "document"}

// prompt is the text put before an input of the given type ("query",
// "document", "search_query", ...): the model's prompt of that name, else
// its default prompt when none is named. An unknown name is an error, so a
// typo does not silently embed a query without its instruction.
func (p *pooling) prompt(inputType string) (string, error) {
	if inputType == "" {
		return p.prompts[p.defaultPrompt], nil
	}
	name := inputType
	if a, ok := promptAliases[inputType]; ok {
		if _, has := p.prompts[inputType]; !has {
			name = a
		}
	}
	if s, ok := p.prompts[name]; ok {
		return s, nil
	}
	// Models with a query prompt only (Qwen3-Embedding) embed documents as
	// they are; a model without prompts embeds every type alike.
	if name == "document" || len(p.prompts) == 0 {
		return "", nil
	}
	names := make([]string, 0, len(p.prompts))
	for n := range p.prompts {
		names = append(names, n)
	}
	sort.Strings(names)
	return "", fmt.Errorf("the model has no prompt %q (it has %v)", inputType, names)
}
