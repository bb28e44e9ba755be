package tokenizer

import (
	"encoding/json"
	"fmt"
	"slices"
)

// postProcessor is what TemplateProcessing, RobertaProcessing and
// BertProcessing add around a single sequence.
type postProcessor struct {
	prefix, suffix []int32
	pair           []pairItem // nil: the file defines no pair layout
}

// pairItem is one element of a sentence-pair layout: the first or second
// sequence (seq 0 or 1) or special tokens (seq -1), with its token type.
type pairItem struct {
	seq    int
	ids    []int32
	typeID int32
}

func buildPostProcessor(c *componentJSON, depth int, t *Tokenizer) (postProcessor, error) {
	var p postProcessor
	if c == nil {
		return p, nil
	}
	if depth > maxNesting {
		return p, fmt.Errorf("post-processors nested deeper than %d", maxNesting)
	}
	switch c.Type {
	case "ByteLevel":
		return p, nil // only adjusts offsets
	case "Sequence":
		for i, raw := range c.Processors {
			sub, err := parseComponent(raw)
			if err != nil {
				return p, fmt.Errorf("processor %d: %w", i, err)
			}
			q, err := buildPostProcessor(sub, depth+1, t)
			if err != nil {
				return p, fmt.Errorf("processor %d: %w", i, err)
			}
			// A pair layout is kept only when one processor defines it
			// and the rest add nothing (ByteLevel); nesting two layouts is
			// not something real files do, so EncodePair refuses it.
			if q.pair != nil && len(p.prefix)+len(p.suffix) == 0 && p.pair == nil {
				p.pair = q.pair
			} else if q.pair != nil || len(q.prefix)+len(q.suffix) > 0 {
				p.pair = nil
			}
			// Each processor wraps the output of the previous one.
			p.prefix = slices.Concat(q.prefix, p.prefix)
			p.suffix = slices.Concat(p.suffix, q.suffix)
		}
		return p, nil
	case "TemplateProcessing":
		return buildTemplate(c, t)
	case "RobertaProcessing", "BertProcessing":
		cls, err := processorToken(c.Cls, t)
		if err != nil {
			return p, fmt.Errorf("cls: %w", err)
		}
		sep, err := processorToken(c.Sep, t)
		if err != nil {
			return p, fmt.Errorf("sep: %w", err)
		}
		p := postProcessor{prefix: []int32{cls}, suffix: []int32{sep}}
		// The crates' fixed pair layouts: BERT types the second sentence 1,
		// RoBERTa (no token types) doubles the separator between them.
		if c.Type == "BertProcessing" {
			p.pair = []pairItem{{-1, []int32{cls}, 0}, {0, nil, 0}, {-1, []int32{sep}, 0}, {1, nil, 1}, {-1, []int32{sep}, 1}}
		} else {
			p.pair = []pairItem{{-1, []int32{cls}, 0}, {0, nil, 0}, {-1, []int32{sep, sep}, 0}, {1, nil, 0}, {-1, []int32{sep}, 0}}
		}
		return p, nil
	}
	return p, fmt.Errorf("%w: post-processor %q", ErrUnsupported, c.Type)
}

func buildTemplate(c *componentJSON, t *Tokenizer) (postProcessor, error) {
	var p postProcessor
	seenSeq := false
	for _, item := range c.Single {
		switch {
		case item.Sequence != nil:
			if seenSeq {
				return p, fmt.Errorf("template has two sequences in single")
			}
			seenSeq = true
		case item.SpecialToken != nil:
			spec, ok := c.SpecialTokens[item.SpecialToken.ID]
			if !ok {
				return p, fmt.Errorf("template token %q is not in special_tokens", item.SpecialToken.ID)
			}
			for _, id := range spec.IDs {
				if id < 0 || id >= int64(len(t.vocab)) {
					return p, fmt.Errorf("template token %q has id %d out of range", item.SpecialToken.ID, id)
				}
				if seenSeq {
					p.suffix = append(p.suffix, int32(id))
				} else {
					p.prefix = append(p.prefix, int32(id))
				}
			}
		}
	}
	for _, item := range c.Pair {
		switch {
		case item.Sequence != nil:
			seq := 0
			if item.Sequence.ID == "B" {
				seq = 1
			}
			p.pair = append(p.pair, pairItem{seq, nil, item.Sequence.TypeID})
		case item.SpecialToken != nil:
			spec, ok := c.SpecialTokens[item.SpecialToken.ID]
			if !ok {
				return p, fmt.Errorf("pair template token %q is not in special_tokens", item.SpecialToken.ID)
			}
			it := pairItem{seq: -1, typeID: item.SpecialToken.TypeID}
			for _, id := range spec.IDs {
				if id < 0 || id >= int64(len(t.vocab)) {
					return p, fmt.Errorf("pair template token %q has id %d out of range", item.SpecialToken.ID, id)
				}
				it.ids = append(it.ids, int32(id))
			}
			p.pair = append(p.pair, it)
		}
	}
	return p, nil
}

// processorToken reads a ["token", id] pair.
func processorToken(raw []json.RawMessage, t *Tokenizer) (int32, error) {
	if len(raw) != 2 {
		return 0, fmt.Errorf("want [token, id], got %d values", len(raw))
	}
	var id int64
	if err := json.Unmarshal(raw[1], &id); err != nil {
		return 0, err
	}
	if id < 0 || id >= int64(len(t.vocab)) {
		return 0, fmt.Errorf("id %d out of range", id)
	}
	return int32(id), nil
}
