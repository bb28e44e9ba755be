package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
)

// Images of models whose processor cuts them into tiles (Idefics3, SmolVLM):
// the checks at load, the prompt text of an image's tiles, and the chat
// templates that read message contents as parts.

// tiledTokens are the added tokens Idefics3Processor writes around an
// image's tiles, which its tokenizer must have.
var tiledTokens = []string{"<fake_token_around_image>", "<global-img>", "<image>"}

// checkTiled checks what the prompts of a tiling processor (Idefics3's)
// need: the tokenizer's image tokens, each matched whole in a prompt, and
// processor_config.json's image_seq_len, when it is there, equal to the
// features the vision tower gives a tile.
func checkTiled(dir string, in *visionInput, tok *tokenizer.Tokenizer) error {
	names := append([]string(nil), tiledTokens...)
	grid := (in.proc.LongestEdge + in.proc.Tile - 1) / in.proc.Tile
	for r := 1; r <= grid; r++ {
		for c := 1; c <= grid; c++ {
			names = append(names, fmt.Sprintf("<row_%d_col_%d>", r, c))
		}
	}
	for _, n := range names {
		ids := tok.EncodeSegments([]tokenizer.Segment{{Text: n, ParseSpecial: true}}, false)
		if len(ids) != 1 {
			return fmt.Errorf("the tokenizer has no %s token", n)
		}
		if n == "<image>" && ids[0] != in.spec.Token {
			return fmt.Errorf("<image> is token %d, config.json's image_token_id %d", ids[0], in.spec.Token)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "processor_config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var pc struct {
		SeqLen *int `json:"image_seq_len"`
	}
	if err == nil {
		err = json.Unmarshal(b, &pc)
	}
	if err != nil {
		return fmt.Errorf("processor_config.json: %w", err)
	}
	if pc.SeqLen != nil && *pc.SeqLen != in.spec.Tokens {
		return fmt.Errorf("processor_config.json's image_seq_len %d, the vision tower gives %d features a tile", *pc.SeqLen, in.spec.Tokens)
	}
	return nil
}

// encodeTiled tokenizes a rendered prompt as Idefics3Processor does: each
// image's marker becomes the text of its tiles (for each row, each tile's
// <fake_token_around_image>, <row_r_col_c> and placeholders, then "\n";
// then "\n", <fake_token_around_image>, <global-img> and the global tile's
// placeholders, <fake_token_around_image>), and the whole prompt is
// tokenized at once, the expansions' added tokens parsed as such.
func (p *promptImages) encodeTiled(tok *tokenizer.Tokenizer, spec model.ImageSpec, segs []tokenizer.Segment) []int32 {
	var run []tokenizer.Segment
	for _, s := range segs {
		text := s.Text
		for {
			loc := p.marker.FindStringSubmatchIndex(text)
			if loc == nil {
				break
			}
			k, err := strconv.Atoi(text[loc[2]:loc[3]])
			rows, cols := 0, 0
			if err == nil && k < len(p.images) {
				rows, cols = p.images[k].rows, p.images[k].cols
			}
			run = append(run, tokenizer.Segment{Text: text[:loc[0]], ParseSpecial: s.ParseSpecial},
				tokenizer.Segment{Text: tileText(rows, cols, spec.Tokens), ParseSpecial: true})
			text = text[loc[1]:]
		}
		run = append(run, tokenizer.Segment{Text: text, ParseSpecial: s.ParseSpecial})
	}
	return tok.EncodeSegments(run, false)
}

// tileText is Idefics3Processor's _prompt_split_image (or, for an image not
// split, _prompt_single_image) for seqLen placeholders a tile.
func tileText(rows, cols, seqLen int) string {
	image := strings.Repeat("<image>", seqLen)
	var b strings.Builder
	for r := range rows {
		for c := range cols {
			fmt.Fprintf(&b, "<fake_token_around_image><row_%d_col_%d>%s", r+1, c+1, image)
		}
		b.WriteString("\n")
	}
	if rows > 0 {
		b.WriteString("\n")
	}
	b.WriteString("<fake_token_around_image><global-img>" + image + "<fake_token_around_image>")
	return b.String()
}

// SmolVLM's chat template reads every message's content as a list of typed
// parts ("for line in message['content']", line['type'] 'text' or 'image',
// an image written as '<image>'), as transformers' processors hand it; a
// string there renders as nothing. Such templates get the parts: the text
// around each image, and the image as a part whose text is its marker,
// which markTemplateImages puts where the template wrote the image.

// partsTemplate reports whether l's template reads contents as parts only:
// a vision model's template that looks at a part's type and never asks
// whether the content is a string (Gemma 3's takes both).
func (l *loaded) partsTemplate() bool {
	if l.vision == nil {
		return false
	}
	src := l.tmpl.Source()
	return (strings.Contains(src, "['type']") || strings.Contains(src, ".type")) && !strings.Contains(src, "is string")
}

// contentParts turns each message's content into parts: its text between
// the image markers, and each image as {type: image, text: marker}.
func contentParts(msgs []chat.Message, p *promptImages) []chat.Message {
	out := make([]chat.Message, len(msgs))
	for i, m := range msgs {
		out[i] = m
		if m.Parts != nil {
			continue
		}
		var parts []chat.Part
		text := m.Content
		for p != nil {
			loc := p.marker.FindStringIndex(text)
			if loc == nil {
				break
			}
			if loc[0] > 0 {
				parts = append(parts, chat.Part{Type: "text", Text: text[:loc[0]]})
			}
			parts = append(parts, chat.Part{Type: "image", Text: text[loc[0]:loc[1]]})
			text = text[loc[1]:]
		}
		if text != "" || len(parts) == 0 {
			parts = append(parts, chat.Part{Type: "text", Text: text})
		}
		out[i].Parts, out[i].Content = parts, ""
	}
	return out
}

// markTemplateImages replaces the "<image>" the template wrote for each
// image part of msgs (outside message contents, in order) with the part's
// marker, for encode and place to find. A template that wrote them
// otherwise is left as it is: place then reports the mismatch.
func markTemplateImages(r chat.Rendered, msgs []chat.Message) chat.Rendered {
	var markers []string
	for _, m := range msgs {
		for _, p := range m.Parts {
			if p.Type == "image" {
				markers = append(markers, p.Text)
			}
		}
	}
	if len(markers) == 0 {
		return r
	}
	const image = "<image>"
	inContent := func(at int) bool {
		for _, s := range r.Content {
			if at >= s.Start && at < s.End {
				return true
			}
		}
		return false
	}
	var at []int
	for i := 0; ; {
		k := strings.Index(r.Text[i:], image)
		if k < 0 {
			break
		}
		if !inContent(i + k) {
			at = append(at, i+k)
		}
		i += k + len(image)
	}
	if len(at) != len(markers) {
		return r
	}
	var b strings.Builder
	out := chat.Rendered{Content: make([]chat.Span, len(r.Content))}
	from, shift, next := 0, 0, 0
	for si, s := range r.Content {
		for next < len(at) && at[next] < s.Start {
			b.WriteString(r.Text[from:at[next]])
			b.WriteString(markers[next])
			from = at[next] + len(image)
			shift += len(markers[next]) - len(image)
			next++
		}
		out.Content[si] = chat.Span{Start: s.Start + shift, End: s.End + shift}
	}
	for ; next < len(at); next++ {
		b.WriteString(r.Text[from:at[next]])
		b.WriteString(markers[next])
		from = at[next] + len(image)
	}
	b.WriteString(r.Text[from:])
	out.Text = b.String()
	return out
}
