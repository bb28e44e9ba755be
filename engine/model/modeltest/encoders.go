package modeltest

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// The encoders of issue #23, in the layout of their real checkpoints:
// sentence-transformers' BertModel (all-MiniLM-L6-v2, bge-small), the
// BertForMaskedLM and XLMRobertaModel encoders, and the cross-encoders
// BertForSequenceClassification (ms-marco-MiniLM-L-6-v2) and
// XLMRobertaForSequenceClassification (bge-reranker-base). They ship a
// WordPiece tokenizer.json ([CLS]=2, [SEP]=3, a pair template with type ids).
// NomicBertModel (nomic-embed-text-v1.5) is written by nomic.go.
var encoderNames = map[string]struct{ arch, modelType string }{
	"bert":    {"BertModel", "bert"},
	"bertmlm": {"BertForMaskedLM", "bert"},
	"bertcls": {"BertForSequenceClassification", "bert"},
	"xlmr":    {"XLMRobertaModel", "xlm-roberta"},
	"xlmrcls": {"XLMRobertaForSequenceClassification", "xlm-roberta"},
	"nomic":   {"NomicBertModel", "nomic_bert"},
	// ModernBERT (modernbert.go): ModernBertModel as modernbert-embed-base
	// ships it, ModernBertForMaskedLM as ModernBERT-base does.
	"modernbert":    {"ModernBertModel", "modernbert"},
	"modernbertmlm": {"ModernBertForMaskedLM", "modernbert"},
	"modernbertcls": {"ModernBertForSequenceClassification", "modernbert"},
}

func init() {
	for k, v := range encoderNames {
		archNames[k] = v
	}
}

// Encoders lists the Spec.Arch values of the encoder families.
func Encoders() []string {
	return []string{"bert", "bertcls", "bertmlm", "xlmr", "xlmrcls", "nomic", "modernbert", "modernbertmlm", "modernbertcls"}
}

// IsEncoder reports whether arch is one of Encoders.
func IsEncoder(arch string) bool { _, ok := encoderNames[arch]; return ok }

func (s Spec) roberta() bool { return s.Arch == "xlmr" || s.Arch == "xlmrcls" }

// PadTokenID is the test XLM-R models' pad_token_id: positions start at 2.
const PadTokenID = 1

// encoderConfig rewrites the Llama-style config c into the encoder's, with
// the keys BertConfig and XLMRobertaConfig write.
func (s Spec) encoderConfig(c map[string]any) map[string]any {
	if s.Arch == "nomic" {
		return s.nomicConfig()
	}
	if strings.HasPrefix(s.Arch, "modernbert") {
		return s.modernBertConfig()
	}
	for _, k := range []string{"rms_norm_eps", "rope_theta", "tie_word_embeddings", "head_dim", "num_key_value_heads", "bos_token_id", "eos_token_id"} {
		delete(c, k)
	}
	c["hidden_act"] = "gelu"
	c["layer_norm_eps"] = 1e-12
	c["type_vocab_size"] = 2
	c["pad_token_id"] = 0
	c["position_embedding_type"] = "absolute"
	c["attention_probs_dropout_prob"] = 0.1
	c["hidden_dropout_prob"] = 0.1
	c["initializer_range"] = 0.02
	if s.roberta() {
		c["layer_norm_eps"] = 1e-5
		c["type_vocab_size"] = 1
		c["pad_token_id"] = PadTokenID
		c["bos_token_id"] = 0
		c["eos_token_id"] = 2
		c["max_position_embeddings"] = s.MaxPos + PadTokenID + 1
	}
	if s.Arch == "bertcls" || s.Arch == "xlmrcls" {
		c["id2label"] = map[string]string{"0": "LABEL_0"}
		c["label2id"] = map[string]int{"LABEL_0": 0}
	}
	if s.QuantBits > 0 {
		q := map[string]any{"group_size": s.GroupSize, "bits": s.QuantBits}
		c["quantization"] = q
		c["quantization_config"] = q
	}
	return c
}

func (s Spec) typeVocab() int {
	if s.roberta() {
		return 1
	}
	return 2
}

// encoderTensors draws the encoder's weights under its checkpoint's names.
func (g *gen) encoderTensors() error {
	s := g.s
	if s.Arch == "nomic" {
		return g.nomicTensors()
	}
	if strings.HasPrefix(s.Arch, "modernbert") {
		return g.modernBertTensors()
	}
	h, inter := s.Hidden, s.Intermediate
	p := ""
	switch s.Arch {
	case "bertmlm", "bertcls":
		p = "bert."
	case "xlmrcls":
		p = "roberta."
	}
	maxPos := s.MaxPos
	if s.roberta() {
		maxPos += PadTokenID + 1
	}
	inv := func(n int) float64 { return 1 / math.Sqrt(float64(n)) }
	ln := func(path string) []error {
		return []error{g.norm(path+".weight", h), g.float(path+".bias", g.normal(h, 0, 0.1), h)}
	}
	steps := []error{
		g.float(p+"embeddings.word_embeddings.weight", g.normal(s.Vocab*h, 0, 1), s.Vocab, h),
		g.float(p+"embeddings.position_embeddings.weight", g.normal(maxPos*h, 0, 0.5), maxPos, h),
		g.float(p+"embeddings.token_type_embeddings.weight", g.normal(s.typeVocab()*h, 0, 0.5), s.typeVocab(), h),
	}
	steps = append(steps, ln(p+"embeddings.LayerNorm")...)
	for i := range s.Layers {
		lp := fmt.Sprintf("%sencoder.layer.%d.", p, i)
		steps = append(steps,
			g.linear(lp+"attention.self.query", h, h, inv(h), true),
			g.linear(lp+"attention.self.key", h, h, inv(h), true),
			g.linear(lp+"attention.self.value", h, h, inv(h), true),
			g.linear(lp+"attention.output.dense", h, h, inv(h), true))
		steps = append(steps, ln(lp+"attention.output.LayerNorm")...)
		steps = append(steps,
			g.linear(lp+"intermediate.dense", inter, h, inv(h), true),
			g.linear(lp+"output.dense", h, inter, inv(inter), true))
		steps = append(steps, ln(lp+"output.LayerNorm")...)
	}
	switch s.Arch {
	case "bert", "xlmr":
		// sentence-transformers keeps BertModel's pooler, unused by its pooling.
		steps = append(steps, g.linear(p+"pooler.dense", h, h, inv(h), true))
	case "bertmlm":
		steps = append(steps, g.linear("cls.predictions.transform.dense", h, h, inv(h), true))
		steps = append(steps, ln("cls.predictions.transform.LayerNorm")...)
		steps = append(steps, g.float("cls.predictions.bias", g.normal(s.Vocab, 0, 0.1), s.Vocab))
	case "bertcls":
		steps = append(steps, g.linear(p+"pooler.dense", h, h, inv(h), true), g.linear("classifier", 1, h, inv(h), true))
	case "xlmrcls":
		steps = append(steps, g.linear("classifier.dense", h, h, inv(h), true), g.linear("classifier.out_proj", 1, h, inv(h), true))
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	return nil
}

// writeWordPiece writes a BERT-style tokenizer.json: special tokens, single
// characters with their ## continuations and a few hundred English words,
// BertNormalizer (lowercasing) and the [CLS] A [SEP] B [SEP] templates.
func writeWordPiece(dir string) error {
	vocab := map[string]int{}
	add := func(t string) {
		if _, ok := vocab[t]; !ok {
			vocab[t] = len(vocab)
		}
	}
	for _, t := range []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"} {
		add(t)
	}
	for c := 'a'; c <= 'z'; c++ {
		add(string(c))
		add("##" + string(c))
	}
	for c := '0'; c <= '9'; c++ {
		add(string(c))
		add("##" + string(c))
	}
	for _, t := range []string{".", ",", "!", "?", "'", "-", ":", ";", "(", ")"} {
		add(t)
	}
	for _, w := range wordList {
		add(w)
	}
	added := []map[string]any{}
	for i, t := range []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"} {
		added = append(added, map[string]any{"id": i, "content": t, "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": false, "special": true})
	}
	tok := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil, "added_tokens": added,
		"normalizer": map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
			"strip_accents": nil, "lowercase": true},
		"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
		"post_processor": map[string]any{"type": "TemplateProcessing",
			"single": []any{special("[CLS]", 0), seq("A", 0), special("[SEP]", 0)},
			"pair":   []any{special("[CLS]", 0), seq("A", 0), special("[SEP]", 0), seq("B", 1), special("[SEP]", 1)},
			"special_tokens": map[string]any{
				"[CLS]": map[string]any{"id": "[CLS]", "ids": []int{2}, "tokens": []string{"[CLS]"}},
				"[SEP]": map[string]any{"id": "[SEP]", "ids": []int{3}, "tokens": []string{"[SEP]"}},
			}},
		"decoder": map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
		"model": map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
			"max_input_chars_per_word": 100, "vocab": vocab},
	}
	if err := writeJSON(filepath.Join(dir, "tokenizer.json"), tok); err != nil {
		return err
	}
	cfg := map[string]any{"tokenizer_class": "BertTokenizer", "do_lower_case": true, "model_max_length": 512,
		"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]"}
	return writeJSON(filepath.Join(dir, "tokenizer_config.json"), cfg)
}

func special(id string, typ int) map[string]any {
	return map[string]any{"SpecialToken": map[string]any{"id": id, "type_id": typ}}
}

func seq(id string, typ int) map[string]any {
	return map[string]any{"Sequence": map[string]any{"id": id, "type_id": typ}}
}

// Pooling is how a sentence-transformers model turns token states into one
// vector, written as its modules.json and 1_Pooling/config.json.
type Pooling struct {
	Mode         string // "mean", "cls" or "lasttoken"
	Normalize    bool   // a 2_Normalize module
	MaxSeqLength int    // sentence_bert_config.json max_seq_length; 0: none written
	// Prompts are config_sentence_transformers.json's named prompts, applied
	// by name (DefaultPrompt names the one used when none is asked for).
	Prompts       map[string]string
	DefaultPrompt string
}

// WriteSentenceTransformers writes p's files into the model directory dir.
func WriteSentenceTransformers(dir string, p Pooling, hidden int) error {
	modules := []map[string]any{
		{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
		{"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
	}
	if p.Normalize {
		modules = append(modules, map[string]any{"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
		if err := os.MkdirAll(filepath.Join(dir, "2_Normalize"), 0o755); err != nil {
			return fmt.Errorf("modeltest: %w", err)
		}
	}
	if err := writeJSON(filepath.Join(dir, "modules.json"), modules); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "1_Pooling"), 0o755); err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	pool := map[string]any{
		"word_embedding_dimension":          hidden,
		"pooling_mode_cls_token":            p.Mode == "cls",
		"pooling_mode_mean_tokens":          p.Mode == "mean",
		"pooling_mode_max_tokens":           false,
		"pooling_mode_mean_sqrt_len_tokens": false,
		"pooling_mode_weightedmean_tokens":  false,
		"pooling_mode_lasttoken":            p.Mode == "lasttoken",
		"include_prompt":                    true,
	}
	if err := writeJSON(filepath.Join(dir, "1_Pooling", "config.json"), pool); err != nil {
		return err
	}
	if p.MaxSeqLength > 0 {
		sb := map[string]any{"max_seq_length": p.MaxSeqLength, "do_lower_case": false}
		if err := writeJSON(filepath.Join(dir, "sentence_bert_config.json"), sb); err != nil {
			return err
		}
	}
	st := map[string]any{"__version__": map[string]string{"sentence_transformers": "3.0.1"},
		"prompts": p.Prompts, "default_prompt_name": nil, "similarity_fn_name": "cosine"}
	if p.Prompts == nil {
		st["prompts"] = map[string]string{}
	}
	if p.DefaultPrompt != "" {
		st["default_prompt_name"] = p.DefaultPrompt
	}
	return writeJSON(filepath.Join(dir, "config_sentence_transformers.json"), st)
}

var wordList = []string{
	"the", "of", "and", "to", "in", "is", "was", "that", "for", "on", "with", "as", "by", "at", "from",
	"it", "this", "be", "are", "an", "or", "which", "has", "had", "not", "but", "his", "her", "they", "were",
	"cat", "dog", "sat", "mat", "house", "tree", "water", "fire", "city", "river", "music", "food", "paris",
	"capital", "france", "germany", "berlin", "what", "where", "who", "how", "why", "when", "weather", "today",
	"machine", "learning", "model", "data", "search", "query", "document", "passage", "answer", "question",
	"hello", "world", "good", "bad", "fast", "slow", "big", "small", "red", "blue", "green", "apple", "banana",
	"computer", "program", "code", "language", "python", "go", "rust", "java", "cloud", "server", "network",
	"running", "walking", "reading", "writing", "##ing", "##ed", "##s", "##ly", "##er", "##est", "##tion",
}
