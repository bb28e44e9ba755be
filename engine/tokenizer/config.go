package tokenizer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// configJSON is the part of tokenizer_config.json that concerns encoding.
type configJSON struct {
	BOSToken                tokenField   `json:"bos_token"`
	EOSToken                tokenField   `json:"eos_token"`
	UnkToken                tokenField   `json:"unk_token"`
	PadToken                tokenField   `json:"pad_token"`
	AdditionalSpecialTokens []tokenField `json:"additional_special_tokens"`
	AddBOSToken             *bool        `json:"add_bos_token"`
	AddEOSToken             *bool        `json:"add_eos_token"`
	TokenizerClass          string       `json:"tokenizer_class"`
}

// tokenField is a special token given as a string or as an AddedToken
// object ({"content": "<s>", ...}); null means unset.
type tokenField string

func (f *tokenField) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*f = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*f = tokenField(s)
		return nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(data, &obj); err != nil {
		return fmt.Errorf("special token is neither a string nor an AddedToken: %w", err)
	}
	*f = tokenField(obj.Content)
	return nil
}

func parseConfig(data []byte) (*configJSON, error) {
	if data == nil {
		return nil, nil
	}
	var c configJSON
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// parseGenerationEOS reads eos_token_id, a number or a list of numbers.
func parseGenerationEOS(data []byte) ([]int32, error) {
	if data == nil {
		return nil, nil
	}
	var g struct {
		EOS json.RawMessage `json:"eos_token_id"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, err
	}
	if len(g.EOS) == 0 || string(g.EOS) == "null" {
		return nil, nil
	}
	var one int32
	if err := json.Unmarshal(g.EOS, &one); err == nil {
		return []int32{one}, nil
	}
	var many []int32
	if err := json.Unmarshal(g.EOS, &many); err != nil {
		return nil, fmt.Errorf("eos_token_id: %w", err)
	}
	return many, nil
}

// llamaClasses rebuild their post-processor from add_bos_token and
// add_eos_token when transformers loads them, so those flags win over the
// template in tokenizer.json.
var llamaClasses = []string{"LlamaTokenizer", "CodeLlamaTokenizer", "GemmaTokenizer"}

func (t *Tokenizer) applyConfig(cfg *configJSON, genEOS []int32) {
	sp := &t.specials
	if cfg != nil {
		sp.bos, sp.eos = string(cfg.BOSToken), string(cfg.EOSToken)
		if id, ok := t.TokenID(sp.bos); ok && sp.bos != "" {
			sp.bosID, sp.hasBOS = id, true
		}
		if id, ok := t.TokenID(sp.eos); ok && sp.eos != "" {
			sp.eosIDs = append(sp.eosIDs, id)
		}
		named := append([]tokenField{cfg.BOSToken, cfg.EOSToken, cfg.UnkToken, cfg.PadToken}, cfg.AdditionalSpecialTokens...)
		for _, f := range named {
			t.markSpecial(string(f))
		}
		if slices.Contains(llamaClasses, strings.TrimSuffix(cfg.TokenizerClass, "Fast")) {
			t.post = postProcessor{}
			if sp.hasBOS && (cfg.AddBOSToken == nil || *cfg.AddBOSToken) {
				t.post.prefix = []int32{sp.bosID}
			}
			if len(sp.eosIDs) > 0 && cfg.AddEOSToken != nil && *cfg.AddEOSToken {
				t.post.suffix = []int32{sp.eosIDs[0]}
			}
		}
	} else {
		// Without a config, the template's tokens are the best guess.
		if len(t.post.prefix) > 0 {
			sp.bosID, sp.hasBOS = t.post.prefix[0], true
			sp.bos = t.vocab[sp.bosID]
		}
		if n := len(t.post.suffix); n > 0 {
			sp.eosIDs = append(sp.eosIDs, t.post.suffix[n-1])
			sp.eos = t.vocab[t.post.suffix[n-1]]
		}
	}
	for _, id := range genEOS {
		if id >= 0 && int(id) < len(t.vocab) && !slices.Contains(sp.eosIDs, id) {
			sp.eosIDs = append(sp.eosIDs, id)
		}
	}
}

// markSpecial makes a token named in the config special: transformers
// registers such tokens as special added tokens, so they are matched in
// text and skipped when decoding with skipSpecial.
func (t *Tokenizer) markSpecial(s string) {
	if s == "" {
		return
	}
	id, ok := t.TokenID(s)
	if !ok {
		return
	}
	t.special[id] = true
	if _, added := t.ids[s]; added {
		for i := range t.added {
			if t.added[i].id == id {
				t.added[i].special = true
			}
		}
		return
	}
	t.ids[s] = id
	t.added = append(t.added, addedToken{id: id, content: s, special: true})
	if t.rawTrie == nil {
		t.rawTrie = newTrie()
	}
	t.rawTrie.add(s, int32(len(t.added)-1))
}
