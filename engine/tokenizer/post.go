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
		return postProcessor{prefix: []int32{cls}, suffix: []int32{sep}}, nil
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
