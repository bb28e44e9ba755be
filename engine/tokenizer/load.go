package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Load reads tokenizer.json from dir, plus tokenizer_config.json and
// generation_config.json when present (special token roles, add_bos_token,
// eos ids).
func Load(dir string) (*Tokenizer, error) {
	data, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	cfg, err := readOptional(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	gen, err := readOptional(filepath.Join(dir, "generation_config.json"))
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	t, err := build(data, cfg, gen)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer from %s: %w", dir, err)
	}
	return t, nil
}

// FromJSON builds a tokenizer from the bytes of a tokenizer.json alone.
func FromJSON(data []byte) (*Tokenizer, error) {
	t, err := build(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("parse tokenizer.json: %w", err)
	}
	return t, nil
}

func readOptional(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// maxTokens bounds ids so that a hostile file cannot make us allocate an
// enormous id table.
const maxTokens = 1 << 24

func build(data, cfgData, genData []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	// Files from older tokenizers versions (bert-base-uncased's,
	// xlm-roberta-base's) leave out the model's type; its fields tell, in
	// the order the reference tries them: merges for BPE, WordPiece's own
	// settings, a list vocabulary for Unigram.
	if f.Model.Type == "" {
		switch {
		case f.Model.Merges != nil:
			f.Model.Type = "BPE"
		case f.Model.MaxInputCharsPerWord != nil || f.Model.ContinuingSubwordPrefix != nil:
			f.Model.Type = "WordPiece"
		case len(f.Model.Vocab) > 0 && f.Model.Vocab[0] == '[':
			f.Model.Type = "Unigram"
		}
	}
	if f.Model.Type != "BPE" && f.Model.Type != "WordPiece" && f.Model.Type != "Unigram" {
		return nil, fmt.Errorf("%w: model type %q", ErrUnsupported, f.Model.Type)
	}
	if f.Model.Dropout != nil && *f.Model.Dropout > 0 {
		return nil, fmt.Errorf("%w: BPE dropout", ErrUnsupported)
	}
	var modelVocab map[string]int64
	var pieces unigramVocabJSON
	if f.Model.Type == "Unigram" {
		var err error
		if pieces, err = parseUnigramVocab(f.Model.Vocab); err != nil {
			return nil, fmt.Errorf("model vocab: %w", err)
		}
		modelVocab = make(map[string]int64, len(pieces))
		for id, p := range pieces {
			modelVocab[p.piece] = int64(id)
		}
	} else if err := json.Unmarshal(f.Model.Vocab, &modelVocab); err != nil {
		return nil, fmt.Errorf("model vocab: %w", err)
	}
	t := &Tokenizer{ids: map[string]int32{}}
	vocab, err := t.buildVocab(&f, modelVocab)
	if err != nil {
		return nil, err
	}
	if err := t.buildPipeline(&f, vocab, pieces); err != nil {
		return nil, err
	}
	cfg, err := parseConfig(cfgData)
	if err != nil {
		return nil, fmt.Errorf("tokenizer_config.json: %w", err)
	}
	genEOS, err := parseGenerationEOS(genData)
	if err != nil {
		return nil, fmt.Errorf("generation_config.json: %w", err)
	}
	t.applyConfig(cfg, genEOS)
	if err := t.buildTokenBytes(); err != nil {
		return nil, err
	}
	t.scratch.New = func() any { return new(scratch) }
	return t, nil
}

// buildVocab fills the id table from the model vocabulary and added tokens
// and returns the model vocabulary with int32 ids.
func (t *Tokenizer) buildVocab(f *fileJSON, modelVocab map[string]int64) (map[string]int32, error) {
	maxID := int64(-1)
	limit := int64(min(maxTokens, 4*(len(modelVocab)+len(f.AddedTokens))+1024))
	check := func(what string, tok string, id int64) error {
		if id < 0 || id >= limit {
			return fmt.Errorf("%s %q has id %d out of range", what, tok, id)
		}
		maxID = max(maxID, id)
		return nil
	}
	for tok, id := range modelVocab {
		if err := check("token", tok, id); err != nil {
			return nil, err
		}
	}
	for _, a := range f.AddedTokens {
		if err := check("added token", a.Content, a.ID); err != nil {
			return nil, err
		}
		if a.Content == "" {
			return nil, fmt.Errorf("added token %d is empty", a.ID)
		}
	}
	t.vocab = make([]string, maxID+1)
	t.special = make([]bool, maxID+1)
	vocab := make(map[string]int32, len(modelVocab))
	for tok, id64 := range modelVocab {
		id := int32(id64)
		vocab[tok] = id
		// Two tokens sharing an id: keep the smaller spelling, so that the
		// result does not depend on map order.
		if t.vocab[id] == "" || tok < t.vocab[id] {
			t.vocab[id] = tok
		}
	}
	for _, a := range f.AddedTokens {
		id := int32(a.ID)
		t.vocab[id] = a.Content
		t.special[id] = a.Special
		t.ids[a.Content] = id
		t.added = append(t.added, addedToken{
			id: id, content: a.Content, singleWord: a.SingleWord, lstrip: a.LStrip,
			rstrip: a.RStrip, normalized: a.Normalized, special: a.Special,
		})
	}
	return vocab, nil
}

func (t *Tokenizer) buildPipeline(f *fileJSON, vocab map[string]int32, pieces unigramVocabJSON) error {
	normC, err := parseComponent(f.Normalizer)
	if err != nil {
		return fmt.Errorf("normalizer: %w", err)
	}
	if t.norm, err = buildNormalizer(normC, 0); err != nil {
		return fmt.Errorf("normalizer: %w", err)
	}
	preC, err := parseComponent(f.PreTokenizer)
	if err != nil {
		return fmt.Errorf("pre_tokenizer: %w", err)
	}
	var spec preTokenizerSpec
	if err := buildPreTokenizers(preC, &spec, 0); err != nil {
		return fmt.Errorf("pre_tokenizer: %w", err)
	}
	t.pre = spec.steps
	switch f.Model.Type {
	case "WordPiece":
		if t.model, err = newWordPiece(&f.Model, vocab); err != nil {
			return fmt.Errorf("model: %w", err)
		}
	case "Unigram":
		if t.model, err = newUnigram(&f.Model, pieces); err != nil {
			return fmt.Errorf("model: %w", err)
		}
	default:
		bpe, err := newBPE(&f.Model, vocab, spec.byteLevel)
		if err != nil {
			return fmt.Errorf("model: %w", err)
		}
		t.model = bpe
		if len(t.pre) == 0 && bpe.safeToChunk(f.Model.Merges) {
			t.pre = []preTokenizer{spaceChunker{}}
		}
	}
	postC, err := parseComponent(f.PostProcessor)
	if err != nil {
		return fmt.Errorf("post_processor: %w", err)
	}
	if t.post, err = buildPostProcessor(postC, 0, t); err != nil {
		return fmt.Errorf("post_processor: %w", err)
	}
	decC, err := parseComponent(f.Decoder)
	if err != nil {
		return fmt.Errorf("decoder: %w", err)
	}
	if t.dec, err = buildDecoder(decC); err != nil {
		return fmt.Errorf("decoder: %w", err)
	}
	t.buildTries()
	return nil
}

// buildTries indexes the added tokens: most are matched in the raw text,
// "normalized" ones in the normalized text, under their normalized form.
func (t *Tokenizer) buildTries() {
	for i, a := range t.added {
		if a.lstrip || a.rstrip {
			if t.strips == nil {
				t.strips = map[int32]addedToken{}
			}
			t.strips[a.id] = a
		}
		if !a.normalized || t.norm == nil {
			if t.rawTrie == nil {
				t.rawTrie = newTrie()
			}
			t.rawTrie.add(a.content, int32(i))
			continue
		}
		if t.normTrie == nil {
			t.normTrie = newTrie()
		}
		t.normTrie.add(t.norm(a.content), int32(i))
	}
}

// buildTokenBytes runs every token through the per-token decoder steps once,
// so that decoding is a table lookup.
func (t *Tokenizer) buildTokenBytes() error {
	t.bytesOff = make([]uint32, len(t.vocab)+1)
	for id, tok := range t.vocab {
		if tok != "" {
			t.bytes = append(t.bytes, t.dec.apply(tok, false)...)
		}
		if len(t.bytes) > 1<<31 {
			return fmt.Errorf("decoded vocabulary exceeds 2 GiB")
		}
		t.bytesOff[id+1] = uint32(len(t.bytes))
	}
	return nil
}
