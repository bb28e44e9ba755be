package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// fileJSON is the subset of tokenizer.json that encoding and decoding need.
// Components are kept raw and decoded on demand, because each "type" has
// its own fields.
type fileJSON struct {
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
	Model         modelJSON        `json:"model"`
}

type addedTokenJSON struct {
	ID         int64  `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type modelJSON struct {
	Type                    string          `json:"type"`
	Vocab                   json.RawMessage `json:"vocab"` // a map for BPE, a list for Unigram
	Merges                  mergesJSON      `json:"merges"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Dropout                 *float64        `json:"dropout"`

	MaxInputCharsPerWord *int `json:"max_input_chars_per_word"` // WordPiece

	UnkID *int64 `json:"unk_id"` // Unigram
}

// mergesJSON accepts both serialisations of BPE merges: "a b" strings
// (tokenizers < 0.20) and ["a", "b"] pairs, which allow spaces in tokens.
type mergesJSON [][2]string

func (m *mergesJSON) UnmarshalJSON(data []byte) error {
	var pairs [][]string
	if err := json.Unmarshal(data, &pairs); err == nil {
		out := make(mergesJSON, len(pairs))
		for i, p := range pairs {
			if len(p) != 2 {
				return fmt.Errorf("merge %d has %d parts, want 2", i, len(p))
			}
			out[i] = [2]string{p[0], p[1]}
		}
		*m = out
		return nil
	}
	var lines []string
	if err := json.Unmarshal(data, &lines); err != nil {
		return fmt.Errorf("merges are neither strings nor pairs: %w", err)
	}
	out := make(mergesJSON, len(lines))
	for i, l := range lines {
		a, b, ok := strings.Cut(l, " ")
		if !ok {
			return fmt.Errorf("merge %d %q has no space", i, l)
		}
		out[i] = [2]string{a, b}
	}
	*m = out
	return nil
}

// componentJSON holds the fields of every normalizer, pre-tokenizer,
// post-processor and decoder type we understand; each type reads its own.
type componentJSON struct {
	Type string `json:"type"`

	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
	Decoders      []json.RawMessage `json:"decoders"`

	Prepend    string       `json:"prepend"`
	Pattern    *patternJSON `json:"pattern"`
	Content    string       `json:"content"`
	StripLeft  bool         `json:"strip_left"`
	StripRight bool         `json:"strip_right"`
	Start      int          `json:"start"`
	Stop       int          `json:"stop"`

	// BertNormalizer; StripAccents nil means "follow Lowercase", as in HF.
	CleanText          bool  `json:"clean_text"`
	HandleChineseChars bool  `json:"handle_chinese_chars"`
	StripAccents       *bool `json:"strip_accents"`
	Lowercase          bool  `json:"lowercase"`

	// WordPiece decoder.
	Prefix  *string `json:"prefix"`
	Cleanup bool    `json:"cleanup"`

	PrecompiledCharsmap string `json:"precompiled_charsmap"` // Precompiled normalizer

	Behavior string `json:"behavior"`
	Invert   bool   `json:"invert"`

	AddPrefixSpace   *bool  `json:"add_prefix_space"`
	UseRegex         *bool  `json:"use_regex"`
	Replacement      string `json:"replacement"`
	PrependScheme    string `json:"prepend_scheme"`
	Split            *bool  `json:"split"`
	IndividualDigits bool   `json:"individual_digits"`

	Single        []templateItemJSON             `json:"single"`
	SpecialTokens map[string]templateSpecialJSON `json:"special_tokens"`
	Sep           []json.RawMessage              `json:"sep"`
	Cls           []json.RawMessage              `json:"cls"`

	Pair []templateItemJSON `json:"pair"` // TemplateProcessing
}

type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

type templateItemJSON struct {
	SpecialToken *struct {
		ID     string `json:"id"`
		TypeID int32  `json:"type_id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID     string `json:"id"`
		TypeID int32  `json:"type_id"`
	} `json:"Sequence"`
}

type templateSpecialJSON struct {
	ID  string  `json:"id"`
	IDs []int64 `json:"ids"`
}

// parseComponent decodes one component; a JSON null gives (nil, nil).
func parseComponent(raw json.RawMessage) (*componentJSON, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c componentJSON
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	return &c, nil
}
